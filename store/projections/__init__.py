"""Read models that follow the event log, and their rebuild from it.

Every row of a read model is a pure function of events in the log up to the
projection's checkpoint: a case summary row of its stream's events, a cadre
archive row of the events of the streams that name the cadre. The live
handler recomputes the rows a batch touches from those events (read from the
``events`` table up to the batch's last event); a rebuild computes every row
from the same events with the same function. So incremental == rebuild, to
the byte, by construction, whatever the batch sizes and crashes in between.

Modules:

    log           reading events up to a checkpoint, by stream; the domain view
    base          Projection: name, tables, incremental apply, full build
    case_summary  one row per case; ``list_cases``, ``open_cases_of_unit``
    unit_board    counts per unit and light, red cases by escalation level, on-time rate
    cadre_archive the domain's archive fold per cadre and period
    archive_fold  the rebuild's fast copy of ``domain.archive``'s fold (property-tested equal)
    archive_writer the archive's JSON documents written from that fold's sums
    registry      PROJECTIONS by name
    runner        one Subscription thread per projection (``zhenggai projector``)
    rebuild       build into ``<table>_rebuild``, catch up, swap in one transaction
    check         build into scratch tables and compare row by row with the live ones
    lag           each projection's checkpoint and its distance from the head
"""
