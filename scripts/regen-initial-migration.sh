#!/usr/bin/env bash
# Until the first release the schema lives in one initial migration, regenerated from the tables.
# After a release, add new revisions with `alembic revision --autogenerate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f models/migrations/versions/0001_initial.py
.venv/bin/python - "$tmp" <<'PY'
import sys
from alembic import command
from models.migrate import alembic_config
cfg = alembic_config(f"sqlite:///{sys.argv[1]}/empty.db")
command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
mv models/migrations/versions/0001_initial_schema.py models/migrations/versions/0001_initial.py
.venv/bin/ruff format -q models/migrations/versions/0001_initial.py
echo "regenerated models/migrations/versions/0001_initial.py"
