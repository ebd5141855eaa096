"""Microsoft Presidio's own analyzer test vectors, as a labelled corpus for ``ntk eval``.

The texts and spans below are copied from the parametrized tests of Presidio's analyzer
(https://github.com/microsoft/presidio, ``presidio-analyzer/tests/``) at commit
0aa9f8e44275cb52c00fbbebe19168e934e1f076, so the scanner is scored on examples its
authors never wrote or tuned against. Presidio is "Copyright (c) Presidio
Contributors" and released under the MIT License; its notice, which covers these
vectors, is reproduced at the end of this docstring.

Taken (only entities needtoknow also has), from ``test_*.py``: credit_card, email,
ip (every parametrize list), mac, phone (US/IL/BR/JP/CN and leniency/explanation
lists), in_aadhaar, in_pan, in_gstin (the two ``analyze`` lists), in_passport,
in_voter, in_vehicle_registration, the PERSON cases of spacy/stanza/transformers
recognizer tests, and four sentences of test_analyzer_engine.py. A text whose test
expects nothing is a negative (no spans). How they were read:

- a span Presidio expects with a low score is still labelled: PAN ``A1111DFSFS``
  (0.01) and ``AAASA1111R``/``ABCND1234Z`` (0.1); vehicle ``MN2412``/``I15432`` (0.01)
  and ``MCX1243`` (0.2); voter (0.3-0.4); passport (0.1); IPv6 unspecified ``::``
  (0.05-0.15); these are marked ``# low score`` in the data;
- spans the test counts but does not place are computed: IPv6 texts expected once
  with no position (the whole text), the second GSTIN of "GSTINs: … and …", the three
  entities of "My name is Bart Simpson, …" (its test lists CREDIT_CARD, PHONE_NUMBER
  and PERSON and expects three results);
- the phone leniency tests give one text several expectations (one per leniency);
  each text is labelled once with every number any leniency finds;
- a PERSON text in several NER tests keeps the spaCy/stanza span (the transformers
  test puts "Mr." inside "They call me Mr. May"); eval matches by overlap anyway;
- the IP test's negative "MAC address aa:bb:cc:dd:ee:ff" holds a MAC address, which
  is labelled MAC_ADDRESS here (it is a negative for IP_ADDRESS only);
- a (text, spans) pair seen twice is written once.
- labels are Presidio's even where a validator disagrees: its four GSTINs
  (``27ABCDE1234F1Z5`` …) fail the GSTIN check character as python-stdnum computes
  it, and ``AAASA1111R``/``ABCND1234Z`` have a PAN holder-type letter (S, N) that
  the PAN scheme does not issue.

Left out: tests of entities needtoknow lacks (URL, DATE_TIME, LOCATION, US_*, UK_*,
other countries' ids, CRYPTO, IBAN, ...); the TR_PHONE_NUMBER and PH_MOBILE_NUMBER
tests (a PhoneRecognizer held to one region, whose negatives such as ``9171234567``
are phone numbers elsewhere); tests that place no span (context_sentences_tests.txt,
"William Bill Alexander" and "Richard (Rick) C. Henderson" coverage tests,
"My name is Sharon and I live in Seattle.", engine tests run on a mocked NLP engine);
GSTIN's ``_sanitize_value`` strings (not detection tests) and its empty-text case;
unit tests of validators (Verhoeff, palindrome, PAN format) that analyse no text.

Run ``python benchmarks/presidio_vectors.py OUT.jsonl`` then
``ntk eval --corpus OUT.jsonl`` (``--format ntk``).

Presidio's licence (LICENSE at that commit)::

    The MIT License (MIT)

    Copyright (c) Presidio Contributors.

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in all
    copies or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
    SOFTWARE.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

PRESIDIO_COMMIT = "0aa9f8e44275cb52c00fbbebe19168e934e1f076"

Span = tuple[int, int, str]
Vector = tuple[str, list[Span]]

CC = "CREDIT_CARD"
EMAIL = "EMAIL_ADDRESS"
IP = "IP_ADDRESS"
MAC = "MAC_ADDRESS"
PHONE = "PHONE_NUMBER"
AADHAAR = "IN_AADHAAR"
PAN = "IN_PAN"
GSTIN = "IN_GSTIN"
PASSPORT = "IN_PASSPORT"
VOTER = "IN_VOTER"
VEHICLE = "IN_VEHICLE_REGISTRATION"
PERSON = "PERSON"

# test_credit_card_recognizer.py
CREDIT_CARD_VECTORS: list[Vector] = [
    (
        "4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881",
        [(0, 16, CC), (17, 36, CC), (37, 56, CC)],
    ),
    ("1748503543012", []),
    ("122000000000003", [(0, 15, CC)]),
    ("my credit card: 122000000000003", [(16, 31, CC)]),
    ("371449635398431", [(0, 15, CC)]),
    ("5555555555554444", [(0, 16, CC)]),
    ("5019717010103742", [(0, 16, CC)]),
    ("30569309025904", [(0, 14, CC)]),
    ("6011000400000000", [(0, 16, CC)]),
    ("3528000700000000", [(0, 16, CC)]),
    ("6759649826438453", [(0, 16, CC)]),
    ("5555555555554444", [(0, 16, CC)]),
    ("4111111111111111", [(0, 16, CC)]),
    ("4917300800000000", [(0, 16, CC)]),
    ("4484070000000000", [(0, 16, CC)]),
    ("4012-8888-8888-1882", []),
    ("my credit card number is 4012-8888-8888-1882", []),
    ("36168002586008", []),
    ("my credit card number is 36168002586008", []),
]

# test_email_recognizer.py
EMAIL_VECTORS: list[Vector] = [
    ("info@presidio.site", [(0, 18, EMAIL)]),
    ("my email address is info@presidio.site", [(20, 38, EMAIL)]),
    (
        "try one of these emails: info@presidio.site or anotherinfo@presidio.site",
        [(25, 43, EMAIL), (47, 72, EMAIL)],
    ),
    ("user@xn--80ak6aa92e.com", [(0, 23, EMAIL)]),
    ("a@xn--d1acufc.xn--p1ai", [(0, 22, EMAIL)]),
    ("my email is user@xn--80ak6aa92e.com today", [(12, 35, EMAIL)]),
    ("my email is info@presidio.", []),
    ("this is not an email: hello-world here", []),
]

# test_ip_recognizer.py
IP_VECTORS: list[Vector] = [
    # test_when_all_ips_then_succeed
    ("microsoft.com 192.168.0.1", [(14, 25, IP)]),
    ("my ip: 192.168.0", []),
    ("microsoft.com 684D:1111:222:3333:4444:5555:6:77", [(14, 47, IP)]),
    ("my ip: 684D:1111:222:3333:4444:5555:6:77", [(7, 40, IP)]),
    ("684D:1111:222:3333:4444:5555:77", []),
    ("2345:0425:2CA1:0000:0000:0567:5673:23b5", [(0, 39, IP)]),  # placed: whole text
    ("2345:0425:2CA1::0567:5673:23b5", [(0, 30, IP)]),  # placed: whole text
    ("2400:c401::5054:ff:fe1b:b031", [(0, 28, IP)]),
    ("Use local ipv6 ::", [(15, 17, IP)]),  # low score
    ("my ip: ::1", [(7, 10, IP)]),
    ("connecting from ::1", [(16, 19, IP)]),
    ("src=:: dst=::1", [(4, 6, IP), (11, 14, IP)]),  # low score (the first)
    # test_when_ipv6_compression_then_succeed
    ("fe80::1", [(0, 7, IP)]),
    ("2001:db8::8a2e:370:7334", [(0, 23, IP)]),
    ("2001:db8:85a3::8a2e:370", [(0, 23, IP)]),
    ("2001:db8::1", [(0, 11, IP)]),
    ("fe80::1%eth0", [(0, 12, IP)]),
    ("A099::09C0:876A:130B", [(0, 20, IP)]),
    # test_when_ipv6_in_context_then_succeed
    ("Server IP: 2001:db8::1", [(11, 22, IP)]),
    ("Connect to [2001:db8::1]:8080", [(12, 23, IP)]),
    ("my ip is 2400:c401::5054:ff:fe1b:b031", [(9, 37, IP)]),
    ("Gateway: fe80::1 on interface", [(9, 16, IP)]),
    ("Visit http://[2001:db8::1]/path", [(14, 25, IP)]),
    ("SSH to user@2001:db8::1", [(12, 23, IP)]),
    # test_when_ipv4_mapped_then_full_span_redacted
    ("::ffff:192.0.2.1", [(0, 16, IP)]),
    ("::ffff:10.0.0.1", [(0, 15, IP)]),
    ("::ffff:172.16.0.1", [(0, 17, IP)]),
    ("::ffff:127.0.0.1", [(0, 16, IP)]),
    ("::ffff:255.255.255.255", [(0, 22, IP)]),
    ("::ffff:0.0.0.0", [(0, 14, IP)]),
    ("::ffff:0:192.168.1.1", [(0, 20, IP)]),
    ("::ffff:0000:10.0.0.1", [(0, 20, IP)]),
    ("Mapped: ::ffff:192.168.1.1", [(8, 26, IP)]),
    ("Connect to ::ffff:10.0.0.1 now", [(11, 26, IP)]),
    ("[::ffff:192.168.1.1]:80", [(1, 19, IP)]),
    ("::192.168.1.1", [(0, 13, IP)]),
    ("::10.0.0.1", [(0, 10, IP)]),
    ("::ffff:256.0.0.1", []),
    ("::ffff:192.168.1", []),
    # test_when_ipv4_embedded_then_full_span_redacted
    ("2001:db8::192.168.1.1", [(0, 21, IP)]),
    ("2001:db8:1::192.0.2.1", [(0, 21, IP)]),
    ("64:ff9b::192.0.2.1", [(0, 18, IP)]),
    ("2001:db8:85a3::8a2e:192.168.0.1", [(0, 31, IP)]),
    ("0:0:0:0:0:FFFF:129.144.52.38", [(0, 28, IP)]),
    ("2001:db8:0:0:0:0:192.168.1.1", [(0, 28, IP)]),
    ("NAT64: 64:ff9b::198.51.100.1", [(7, 28, IP)]),
    ("Tunnel to 2001:db8::10.0.0.1", [(10, 28, IP)]),
    ("2001:db8::256.1.1.1", []),
    # test_when_multiple_ips_then_all_found
    ("IPv4: 192.168.1.1, IPv6: 2001:db8::1", [(6, 17, IP), (25, 36, IP)]),
    ("Primary: 10.0.0.1, Secondary: 172.16.0.1", [(9, 17, IP), (30, 40, IP)]),
    (
        "IPs: 192.168.1.1, 10.0.0.1, 2001:db8::1",
        [(5, 16, IP), (18, 26, IP), (28, 39, IP)],
    ),
    # test_when_non_ip_pattern_then_no_match (the first holds a MAC address)
    ("MAC address aa:bb:cc:dd:ee:ff", [(12, 29, MAC)]),
    ("Time 12:34:56", []),
    ("Ratio 1:2:3:4", []),
    ("CSS color #ff00aa", []),
    ("Version 1.2.3", []),
    ("Port 80:443", []),
    ("abc:def:ghi", []),
    ("123:abc", []),
    ("file:///path/to/file", []),
    ("std::cout", []),
    ("MyClass::toString", []),
    (":::", []),
    # test_when_ip_at_boundary_then_correct_span
    ("IP192.168.1.1text", []),
    ("text192.168.1.1", []),
    ("(192.168.1.1)", [(1, 12, IP)]),
    ("'2001:db8::1'", [(1, 12, IP)]),
    ("IP: 192.168.1.1.", [(4, 15, IP)]),
    ("192.168.1.1,", [(0, 11, IP)]),
    ("[2001:db8::1]", [(1, 12, IP)]),
    ("Server IP: 2400:c401::5054:ff:fe1b:b031.", [(11, 39, IP)]),
    ("2001:db8::1.", [(0, 11, IP)]),
    ("fe80::1text", []),
    ("text2001:db8::1", []),
    ("192.168.1.1.1", [(0, 11, IP)]),
    # test_when_invalid_ip_then_no_match
    ("256.256.256.256", []),
    ("192.168.1.256", []),
    ("gggg:hhhh::1234", []),
    ("192.168.1", []),
    ("300.168.1.1", []),
    ("12345:db8::1", []),
    ("2001::db8::1", []),
    ("2001::25de::cade", []),
    ("192.168.2.1@eth0", [(0, 11, IP)]),
    ("text::ffff:192.0.2.1", [(11, 20, IP)]),
    ("foo2001:db8::10.0.0.1", [(13, 21, IP)]),
    # test_when_special_ip_variants_then_succeed
    ("localhost 127.0.0.1", [(10, 19, IP)]),
    ("Broadcast 255.255.255.255", [(10, 25, IP)]),
    ("Private 10.0.0.0", [(8, 16, IP)]),
    ("Link-local 169.254.1.1", [(11, 22, IP)]),
    ("Subnet 172.16.0.0", [(7, 17, IP)]),
    ("Default 0.0.0.0", [(8, 15, IP)]),
    ("Unspecified ::", [(12, 14, IP)]),  # low score
    ("Loopback ::1", [(9, 12, IP)]),
    ("Multicast ff02::1", [(10, 17, IP)]),
    # test_when_cidr_notation_then_largest_span_redacted
    ("192.168.1.0/24", [(0, 14, IP)]),
    ("10.0.0.0/8", [(0, 10, IP)]),
    ("0.0.0.0/0", [(0, 9, IP)]),
    ("192.168.1.1/32", [(0, 14, IP)]),
    ("2001:db8::/32", [(0, 13, IP)]),
    ("fe80::/10", [(0, 9, IP)]),
    ("::1/128", [(0, 7, IP)]),
    ("fe80::1%eth0/64", [(0, 15, IP)]),
    ("2001:db8::%eth0/128", [(0, 19, IP)]),
    ("::/0", [(0, 4, IP)]),  # low score
    ("::/128", [(0, 6, IP)]),  # low score
    ("::ffff:192.168.1.0/96", [(0, 21, IP)]),
    ("64:ff9b::192.0.2.0/96", [(0, 21, IP)]),
    ("Subnet: 192.168.1.0/24", [(8, 22, IP)]),
    ("Prefix: 2001:db8::/32", [(8, 21, IP)]),
    ("Route is 10.0.0.0/8.", [(9, 19, IP)]),
    ("Use 2001:db8::/32.", [(4, 17, IP)]),
    ("10.0.0.0/123", [(0, 8, IP)]),
    ("2001:db8::/9999", [(0, 10, IP)]),
]

# test_mac_recognizer.py
MAC_VECTORS: list[Vector] = [
    ("My MAC address is 00:1A:2B:3C:4D:5E", [(18, 35, MAC)]),
    ("Device MAC: AA:BB:CC:DD:EE:FF", [(12, 29, MAC)]),
    ("MAC: 01:23:45:67:89:AB", [(5, 22, MAC)]),
    ("Lowercase MAC: 0a:23:f5:67:89:ac", [(15, 32, MAC)]),
    ("My MAC address is 00-1A-2B-3C-4D-5E", [(18, 35, MAC)]),
    ("Hardware address: AA-BB-CC-DD-EE-FF", [(18, 35, MAC)]),
    ("MAC: 01-23-45-67-89-AB", [(5, 22, MAC)]),
    ("Lowercase MAC: 01-b3-4a-67-d9-cf", [(15, 32, MAC)]),
    ("Mixedcase MAC: 0d-B3-4a-6A-d9-cF", [(15, 32, MAC)]),
    ("Cisco MAC: 0012.3456.789A", [(11, 25, MAC)]),
    ("My MAC is 0012.3456.789a", [(10, 24, MAC)]),
    ("Physical address is aabb.ccdd.eeff", [(20, 34, MAC)]),
    ("MACs: 00:11:22:33:44:55 and AA-BB-CC-DD-EE-FF", [(6, 23, MAC), (28, 45, MAC)]),
    ("ethernet mac address: 00:1A:2B:3C:4D:5E", [(22, 39, MAC)]),
    ("The hardware address is AA-BB-CC-DD-EE-FF", [(24, 41, MAC)]),
    ("Not a MAC: 00:1A:2B:3C:4D", []),
    ("Invalid: ZZ:ZZ:ZZ:ZZ:ZZ:ZZ", []),
    ("Broadcast: FF:FF:FF:FF:FF:FF", []),
    ("Invalid: 00:00:00:00:00:00", []),
    ("Mixed test cases for hyphens and colons: 10:2F:33-AC-29-C3", []),
]

_US = "My US number is (415) 555-0132, and my international one is"

# test_phone_recognizer.py
PHONE_VECTORS: list[Vector] = [
    # test_when_all_phones_then_succeed
    (
        "My US number is (415) 555-0132, and my international one is +1 415 555 0132",
        [(16, 30, PHONE), (60, 75, PHONE)],
    ),
    ("My Israeli number is 09-7625400", [(21, 31, PHONE)]),
    ("_: (415)555-0132", [(3, 16, PHONE)]),
    ("United States: (415)555-0132", [(15, 28, PHONE)]),
    ("US: 415-555-0132", [(4, 16, PHONE)]),
    ("_: +55 11 98456 5666", [(3, 20, PHONE)]),
    ("Brazil: +55 11 98456 5666", [(8, 25, PHONE)]),
    ("BR: +55 11 98456 5666", [(4, 21, PHONE)]),
    ("My Japanese number is 090-1234-5678", [(22, 35, PHONE)]),
    ("My CN number is 13812345678", [(16, 27, PHONE)]),
    # test_when_phone_with_leniency_then_succeed (every number any leniency finds)
    (_US + "415-555-0132", [(16, 30, PHONE), (59, 71, PHONE)]),
    (_US + " 91-415-555-0132", [(16, 30, PHONE), (60, 75, PHONE)]),
    (_US + " +91 4155 550132", [(16, 30, PHONE), (60, 75, PHONE)]),
    (_US + " +91 4155550132", [(16, 30, PHONE), (60, 74, PHONE)]),
    # test_when_phone_with_textual_explanation_then_succeed
    (_US + " +44 (20) 7123 4567", [(16, 30, PHONE), (60, 78, PHONE)]),
    (_US + " +55 11 98456 5666", [(16, 30, PHONE), (60, 77, PHONE)]),
    (_US + " +49 30 1234567", [(16, 30, PHONE), (60, 74, PHONE)]),
    (_US + " +39 06 678 4343", [(16, 30, PHONE), (60, 75, PHONE)]),
    (_US + " +30 21 0 1234567", [(16, 30, PHONE), (60, 76, PHONE)]),
    (_US + " +33 1 42 68 53 00", [(16, 30, PHONE), (60, 77, PHONE)]),
]

# test_in_aadhaar_recognizer.py
AADHAAR_VECTORS: list[Vector] = [
    ("123456789012", []),
    ("312345678909", [(0, 12, AADHAAR)]),
    ("399876543211", [(0, 12, AADHAAR)]),
    ("1234 5678 9012", []),
    ("3123 4567 8909", [(0, 14, AADHAAR)]),
    ("3998 7654 3211", [(0, 14, AADHAAR)]),
    ("1234-5678-9012", []),
    ("3123-4567-8909", [(0, 14, AADHAAR)]),
    ("3998-7654-3211", [(0, 14, AADHAAR)]),
    ("1234:5678:9012", []),
    ("3123:4567:8909", [(0, 14, AADHAAR)]),
    ("3998:7654:3211", [(0, 14, AADHAAR)]),
    ("My Aadhaar number is 400123456787 with a lot of text beyond it", [(21, 33, AADHAAR)]),
]

# test_in_pan_recognizer.py
PAN_VECTORS: list[Vector] = [
    ("AAASA1111R", [(0, 10, PAN)]),  # low score
    ("ABCPD1234Z", [(0, 10, PAN)]),
    ("ABCND1234Z", [(0, 10, PAN)]),  # low score
    ("A1111DFSFS", [(0, 10, PAN)]),  # low score
    ("ABCD1234", []),
    ("My PAN number is ABBPM4567S with a lot of text beyond it", [(17, 27, PAN)]),
]

# test_in_gstin_recognizer.py (test_when_gstin_in_text_..., test_gstin_validation)
GSTIN_VECTORS: list[Vector] = [
    ("27ABCDE1234F1Z5", [(0, 15, GSTIN)]),
    ("07PQRST6789K1Z2", [(0, 15, GSTIN)]),
    ("01ABCDE1234F1Z5", [(0, 15, GSTIN)]),
    ("37ABCDE1234F1Z5", [(0, 15, GSTIN)]),
    ("My GSTIN number is 27ABCDE1234F1Z5 for business registration", [(19, 34, GSTIN)]),
    ("GST registration: 07PQRST6789K1Z2", [(18, 33, GSTIN)]),
    ("Tax identification GSTIN: 01ABCDE1234F1Z5", [(26, 41, GSTIN)]),
    ("GSTINs: 27ABCDE1234F1Z5 and 07PQRST6789K1Z2", [(8, 23, GSTIN), (28, 43, GSTIN)]),
    ("27ABCDE1234F1Z", []),
    ("27ABCDE1234F1Z55", []),
    ("00ABCDE1234F1Z5", []),
    ("38ABCDE1234F1Z5", []),
    ("27ABCDE1234F1Y5", []),
    ("123456789012345", []),
    ("ABCDEFGHIJKLMNO", []),
]

# test_in_passport_recognizer.py (every positive: score 0.1)
PASSPORT_VECTORS: list[Vector] = [
    ("A3456781", [(0, 8, PASSPORT)]),  # low score
    ("B3097651", [(0, 8, PASSPORT)]),  # low score
    ("C3590543", [(0, 8, PASSPORT)]),  # low score
    ("my passport number is T3569075", [(22, 30, PASSPORT)]),  # low score
    ("passport number: J6932157", [(17, 25, PASSPORT)]),  # low score
    ("b0097650", []),
    ("my passport number is T356907", []),
]

# test_in_voter_recognizer.py (every positive: score 0.3 or 0.4)
VOTER_VECTORS: list[Vector] = [
    ("KSD1287349", [(0, 10, VOTER)]),  # low score
    ("my voter: DBJ2289013", [(10, 20, VOTER)]),  # low score
    ("uzb2345117", [(0, 10, VOTER)]),  # low score
    ("this MUP5632811", [(5, 15, VOTER)]),  # low score
    ("You can vote with your CPJ4467918 number", [(23, 33, VOTER)]),  # low score
    ("zxdf8923q1", []),
    ("A8923571WZ", []),
]

# test_in_vehicle_registration_recognizer.py
VEHICLE_VECTORS: list[Vector] = [
    ("KA53ME3456", [(0, 10, VEHICLE)]),
    ("KA99ME3456", [(0, 10, VEHICLE)]),
    ("MN2412", [(0, 6, VEHICLE)]),  # low score
    ("MCX1243", [(0, 7, VEHICLE)]),  # low score
    ("I15432", [(0, 6, VEHICLE)]),  # low score
    ("DL3CJI0001", [(0, 10, VEHICLE)]),
    ("DL01CA1234", [(0, 10, VEHICLE)]),
    ("GJ09AB1234", [(0, 10, VEHICLE)]),
    ("ABNE123456", []),
    (
        "My Bike's registration number is OD02BA2341 with a lot of text beyond",
        [(33, 43, VEHICLE)],
    ),
]

# test_spacy_recognizer.py, then the texts only test_stanza_recognizer.py and
# test_transformers_recognizer.py have (PERSON cases)
PERSON_VECTORS: list[Vector] = [
    ("my name is Dan", [(11, 14, PERSON)]),
    ("Dan Tailor", [(0, 10, PERSON)]),
    ("John Oliver is a comedian.", [(0, 11, PERSON)]),
    ("Richard Milhous Nixon", [(0, 21, PERSON)]),
    ("Richard M. Nixon", [(0, 16, PERSON)]),
    ("Dan Bar has a bank account.", [(0, 7, PERSON)]),
    ("Mr. Mayers", [(4, 10, PERSON)]),
    ("They call me Mr. Mayers", [(17, 23, PERSON)]),
    ("Dan May has a bank account.", [(0, 7, PERSON)]),
    ("Mr. May", [(4, 7, PERSON)]),
    ("They call me Mr. May", [(17, 20, PERSON)]),
    ("his name is Mr. May", [(12, 19, PERSON)]),
]

# test_analyzer_engine.py
ENGINE_VECTORS: list[Vector] = [
    (
        " Credit card: 4095-2609-9393-4932,  my phone is 425 8829090",
        [(14, 33, CC), (48, 59, PHONE)],
    ),
    (
        "My name is David and his number is 4095-2609-9393-4932",
        [(11, 16, PERSON), (35, 54, CC)],
    ),
    (  # placed: the test lists the three entities and expects three results
        "My name is Bart Simpson, and Credit card: 4095-2609-9393-4932,  my phone is 425 8829090",
        [(11, 23, PERSON), (42, 61, CC), (76, 87, PHONE)],
    ),
]

VECTORS: list[Vector] = [
    *CREDIT_CARD_VECTORS,
    *EMAIL_VECTORS,
    *IP_VECTORS,
    *MAC_VECTORS,
    *PHONE_VECTORS,
    *AADHAAR_VECTORS,
    *PAN_VECTORS,
    *GSTIN_VECTORS,
    *PASSPORT_VECTORS,
    *VOTER_VECTORS,
    *VEHICLE_VECTORS,
    *PERSON_VECTORS,
    *ENGINE_VECTORS,
]


def unique(vectors: list[Vector]) -> list[Vector]:
    """Each (text, spans) pair once, in first-seen order; ValueError when one text is
    given two different labellings, or a span is out of range or has edge spaces."""
    seen: dict[str, list[Span]] = {}
    for text, spans in vectors:
        for start, end, entity in spans:
            value = text[start:end]
            if not 0 <= start < end <= len(text) or value != value.strip():
                raise ValueError(f"bad span {(start, end, entity)} in {text!r}")
        if text in seen and sorted(seen[text]) != sorted(spans):
            raise ValueError(f"two labellings of {text!r}")
        seen.setdefault(text, spans)
    return list(seen.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the JSON Lines file to write")
    args = parser.parse_args()
    vectors = unique(VECTORS)
    with args.out.open("w", encoding="utf-8") as out:
        for text, spans in vectors:
            labels = [{"start": s, "end": e, "entity": entity} for s, e, entity in spans]
            out.write(json.dumps({"text": text, "spans": labels}, ensure_ascii=False) + "\n")
    spans_per = Counter(entity for _, spans in vectors for _, _, entity in spans)
    negatives = sum(1 for _, spans in vectors if not spans)
    print(f"{len(vectors)} texts ({negatives} negative), Presidio {PRESIDIO_COMMIT[:12]}")
    for entity, count in sorted(spans_per.items()):
        print(f"  {entity}: {count} spans")


if __name__ == "__main__":
    main()
