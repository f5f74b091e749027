"""The application layer: one function per use case, the same for every door.

The HTTP API (api/), the web console and the importers call these and nothing
below them: record a finding (``findings``), send a command to a case
(``commands``), read a case and its history (``case_reads``), the case list and
the unit board (``case_lists``), a cadre's archive (``archive``), evidence files
(``evidence``), the directory (``directory``), the notification outbox
(``notifications``), the system's status (``status``). Each takes the
``Services`` and the ``Caller`` with typed input, returns typed results, and
says no with a ``Refusal`` (``errors``).
"""
