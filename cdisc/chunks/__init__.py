"""A run in chunks of subjects: memory bounded by a chunk, not by the study, and both cores used.

The raw files are read a record batch at a time (a CSV export; other formats whole) and spilled, the
subject of each record worked out as the batches go by. The subjects (USUBJID, in the order SDTM sorts
them) are then cut into contiguous ranges. Every raw record goes
to the chunk of its subject, found from the spec: the raw columns the USUBJID mapping of the domain that
reads the source names (for a merged source, the merge key that carries them); a record whose subject is
not a subject of the study (a typo, a blank) goes to the chunk whose range holds its value, where the
mapping lists it or refuses it exactly as a run of the whole study does. Lookup sources go whole to
every chunk. A spec whose sources cannot be split by subject (a merge or a de-duplication not by the
subject, a USUBJID not mapped from the raw record) runs as one chunk: the same code, the same output.

Each chunk maps SDTM (``build_sdtm(whole_study=False)``) in a worker process and spills its datasets to
Arrow IPC files in a work folder of the staging area. The raw checks give the problems of the whole
tables (cdisc.chunks.checks): undeclared values found batch by batch, repeated source keys in each chunk
(or on the key columns of the whole source when its keys do not hold its subject). What needs every
subject is done once, between the passes: TS's values taken from the data (first date, number of
subjects), the permissible variables without a value in any chunk.
The SDTM datasets are then joined (each chunk's first sort key after the previous chunk's last, else a
located error) and written once; ADaM is built per chunk from the chunk's SDTM as its XPT files hold it
(the round trip through a file worked out in memory where that is certain, else written and read back:
cdisc.chunks.readback; only the variables the ADaM spec reads) and joined the same way. The datasets are
handed on as ``Spilled``: a read-only mapping that loads one dataset from its file on each access.

Notes, reports of records not mapped, the cut log and the lineage are joined from the chunks' structured
data (sdtm.notes: counts add up, value lists unite; lineage positions offset by the records before).
"""
