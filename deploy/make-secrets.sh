#!/bin/sh
# Random passwords and keys for deploy/compose.yaml, one file each in deploy/secrets/
# (mode 0600; never commit them). Existing files are kept, so running it again is safe.
# Keep a copy of audit_key outside this host: the seals cannot be verified without it.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
new() { [ -s "secrets/$1" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > "secrets/$1"; }
for name in eventstore_postgres_password zhenggai_owner_password temporal_db_password \
            pw_api pw_worker pw_projector pw_dispatcher audit_key webhook_secret; do
    new "$name"
done
[ -e secrets/smtp_password ] || : > secrets/smtp_password  # fill in if SMTP needs a login
host=eventstore-db:5432/zhenggai
printf 'postgresql://zhenggai_owner:%s@%s\n' "$(cat secrets/zhenggai_owner_password)" "$host" \
    > secrets/database_url_owner
for p in api worker projector dispatcher; do
    printf 'postgresql://zhenggai_%s_login:%s@%s\n' "$p" "$(cat "secrets/pw_$p")" "$host" \
        > "secrets/database_url_$p"
done
python3 - <<'PY'
import json, pathlib
s = pathlib.Path("secrets")
logins = {f"zhenggai_{p}_login": (s / f"pw_{p}").read_text().strip()
          for p in ("api", "worker", "projector", "dispatcher")}
(s / "db_logins.json").write_text(json.dumps(logins, indent=2) + "\n")
PY
echo "secrets in $(pwd)/secrets"
