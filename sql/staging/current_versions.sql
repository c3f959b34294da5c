-- current_versions
-- relation: 现行文件版本（每个县区、台账、期间一个：其行现在计数） · the file version whose rows count now, one per (scope, ledger, period)
-- Grain: one row per (scope, ledger, period): the file version whose rows count now, with
-- every column of its `file_versions` row.
-- This is the one definition of "current". The loader keeps one loaded version per
-- (scope, ledger, period): a later file for the same slot marks the one it replaces
-- `superseded`, an identical one is recorded `unchanged`, a rejected one loads nothing.
-- Every staging model joins its raw rows to this view; the Python that must decide before
-- the models are built (the loader, the build's ledger fingerprints) reads this file's SQL
-- (flows/load/current.py), so a change here changes them all.
select *
from file_versions
where status = 'loaded'
