"""Backups of the vault's database that keep erasures erased (``ntk backup|restore``)."""

from needtoknow.backups.backups import Backup, Restored, back_up, restore

__all__ = ["Backup", "Restored", "back_up", "restore"]
