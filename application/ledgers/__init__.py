"""Ledgers in and out (台账): import findings from spreadsheets, export the rectification
ledger, the archive and board as files, and the letters of escalation as PDF."""
