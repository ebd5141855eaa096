"""What an incident can be, and the deadlines each starts.

The kinds are the twenty of CERT-In's Directions of 28 April 2022, Annexure I (each to
be reported within six hours of being noticed, direction (ii)). A personal data breach
(DPDP Act s.2(u)) also starts the Board's clocks (Rules r.7(2)): an intimation without
delay, and the detailed report within 72 hours of becoming aware.
"""

from __future__ import annotations

from datetime import timedelta

KINDS = {
    "targeted_scanning": "Targeted scanning/probing of critical networks/systems",
    "critical_compromise": "Compromise of critical systems/information",
    "unauthorised_access": "Unauthorised access of IT systems/data",
    "website_defacement": "Defacement of website or intrusion into a website",
    "malicious_code": "Malicious code attacks (virus, worm, trojan, bots, spyware, ransomware)",
    "server_attack": "Attack on servers (database, mail, DNS) and network devices",
    "identity_theft": "Identity theft, spoofing and phishing attacks",
    "denial_of_service": "Denial of Service (DoS) and Distributed Denial of Service attacks",
    "critical_infrastructure": "Attacks on critical infrastructure, SCADA, OT and wireless",
    "application_attack": "Attacks on applications such as e-governance, e-commerce",
    "data_breach": "Data breach",
    "data_leak": "Data leak",
    "iot_attack": "Attacks on Internet of Things devices and associated systems",
    "digital_payments": "Attacks or incidents affecting digital payment systems",
    "malicious_app": "Attacks through malicious mobile apps",
    "fake_app": "Fake mobile apps",
    "social_media_access": "Unauthorised access to social media accounts",
    "cloud_attack": "Attacks or suspicious activity affecting cloud computing systems",
    "emerging_tech": "Attacks on big data, blockchain, virtual assets, robotics, drones",
    "ai_ml_attack": "Attacks or suspicious activity affecting AI and machine learning systems",
}
# Kinds that are personal data breaches when personal data is involved (DPDP Act
# s.2(u): unauthorised processing, accidental disclosure, loss of access...); any other
# kind becomes one when a scope finds customers.
BREACH_KINDS = frozenset({"data_breach", "data_leak", "unauthorised_access"})

CERT_IN = timedelta(hours=6)  # Directions 2022, direction (ii): from noticing
BOARD_REPORT = timedelta(hours=72)  # DPDP Rules 2025 r.7(2)(b): from becoming aware
# The reports an incident may owe, each recorded when made (ntk incident filed)
REPORTS = {
    "cert_in": "CERT-In incident report (Directions 2022, direction (ii))",
    "board_intimation": "Intimation to the Data Protection Board (Rule 7(2)(a))",
    "board_report": "Detailed report to the Data Protection Board (Rule 7(2)(b))",
}
