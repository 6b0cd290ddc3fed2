"""`make run`: the whole portal on one machine (web, Celery worker, Celery beat).

Uses DATABASE_URL / REDIS_URL when given, embedded engines otherwise (scripts/engines.py).
Migrates, loads the demo data, prints the URL and the demo logins, then runs the Procfile
with honcho. Ctrl-C stops every process, then the embedded engines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from engines import DATA_DIR, ROOT, engines


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    port = os.environ.get("PORT", "8000")
    with engines() as env:
        env.setdefault("DEBUG", "true")
        env["WEB_PORT"] = port
        env["SITE_URL"] = env.get("SITE_URL", f"http://127.0.0.1:{port}")
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        env.setdefault("PYTHONUNBUFFERED", "1")
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "load_demo")
        print(f"\nPortail PTCE : http://127.0.0.1:{port}/", flush=True)
        print(f"E-mails de développement : {DATA_DIR / 'mail'} (un fichier par envoi)", flush=True)
        print("Arrêt : Ctrl-C\n", flush=True)
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "start", "-f", "Procfile"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )

        def stop(signum, frame):
            if honcho.poll() is None:
                honcho.send_signal(signal.SIGINT)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        status = honcho.wait()
    print("Portail arrêté.", flush=True)
    return 0 if status in (0, -signal.SIGINT, 130) else status


if __name__ == "__main__":
    sys.exit(main())
