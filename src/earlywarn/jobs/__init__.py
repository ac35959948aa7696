"""One module per command: each job reads its inputs, calls the pure stages, writes its outputs
atomically and logs what it did (``audit`` keeps the trail of every run).

Where earlywarn touches disk, MLflow and the environment (checked by
``tests/unit/jobs/test_io_rule.py``):

- ``data/`` reads table files and column mappings and writes data directories;
  ``data/storage.py`` is the atomic write (file or folder) every writer uses, and the file hash.
- ``config.py`` reads YAML files: job configs, and for ``data`` and ``explain`` the column
  mapping and the reason glossary.
- ``resources/`` finds the files shipped inside the package (glossary, demo config, templates).
- Four file formats live with the stage that defines them and read and write their own files
  through ``data/storage.py``: the model folder (``model/model_file.py``), the scores file with
  its sidecar (``scoring/scores_file.py``), the score history store (``scoring/history.py``)
  and a scoring run's resumable work folder (``scoring/work_dir.py``).
- ``jobs/`` orchestrate: they read through the modules above, write each job's own outputs
  (features file, reports and PDFs, model card, tuning study, audit log) and
  read the environment.
- ``cli/`` parses arguments into a job call; it only looks whether a default config exists.
- ``tracking/`` is the only code that talks to MLflow (runs, artifacts, the registry).

Every other module (``features/``, ``simulator/`` and the rest of ``model/``, ``explain/``
and ``scoring/``) takes frames and small objects and returns new ones: no files, no MLflow,
no environment.
"""
