"""The handlers behind ``decide``, one module per part of a case's life."""
