"""Lighthouse (mobile) on every indexable storefront page, served with production settings.

    .venv/bin/python bench/lighthouse.py [--runs N] [--products N] [--all-products] [--keep] [PATH ...]
    make lighthouse                                  (the same, with the defaults)

What it does, all on loopback and in a throw-away folder:
1. installs Lighthouse from the npm registry into bench/lighthouse/node_modules, pinned by
   bench/lighthouse/package.json and package-lock.json (`npm ci`, skipped when already there);
2. builds a site with production settings (DEBUG off, a random secret, ALLOWED_HOSTS=127.0.0.1,
   SECURE_SSL_REDIRECT off because there is no TLS on loopback): a new SQLite database with the
   demo data, static files collected (hashed names, compressed), and Gunicorn started with
   deploy/gunicorn.conf.py on 127.0.0.1 (2 workers); /media/ and gzip as Nginx does them
   (bench/lighthouse/lighthouse_wsgi.py);
3. takes the indexable pages from the site's own sitemap.xml: every page, except that only a sample
   of product pages is run (`--products N`, 4 by default; `--all-products` for all of them) — or the
   paths given on the command line;
4. runs Lighthouse's default (mobile) configuration on each page with Debian's Chromium
   (/usr/bin/chromium, or CHROME_PATH), prints the four scores per page and every audit that did
   not pass, and exits 1 if any score is below 100 (2 if the site or Lighthouse could not run).
   Each page is run 3 times (`--runs`) and the run with the median performance score is kept:
   performance depends on how busy the machine is (the `cpu` column, Lighthouse's benchmark index).

JSON reports are kept in the throw-away folder with `--keep` (its path is printed).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE_DIR = ROOT / "bench" / "lighthouse"
LIGHTHOUSE_BIN = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-background-networking --disable-component-update "
    "--disable-sync --no-first-run --proxy-server=http://127.0.0.1:9"
)
PRODUCT_PATH = re.compile(r"^/carte/[^/]+/$")  # a product page sits right under the menu page


def install_lighthouse():
    lock = LIGHTHOUSE_DIR / "package-lock.json"
    stamp = LIGHTHOUSE_DIR / "node_modules" / ".package-lock.json"
    if LIGHTHOUSE_BIN.exists() and stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    print("Installing Lighthouse (npm ci in bench/lighthouse/)…", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LIGHTHOUSE_DIR, check=True)  # noqa: S603, S607


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_environment(workdir):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("DJANGO", "DATABASE_URL", "CACHE_URL")):
            del env[name]
    env.update(
        DEBUG="false",
        DJANGOSECRETKEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"sqlite:///{workdir}/lighthouse.sqlite3",
        MEDIA_ROOT=str(workdir / "media"),
        STATIC_ROOT=str(workdir / "static"),
        EMAIL_URL="consolemail://",
        OCPIZZA_ROOT=str(workdir),
        GUNICORN_WORKERS="2",
        GUNICORN_LOG_LEVEL="warning",
        DJANGO_SETTINGS_MODULE="ocpizza.settings",
    )
    return env


def build_site(workdir, env):
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    steps = (
        ["migrate", "--no-input", "-v", "0"],
        ["load_demo_data", "--i-know-this-is-production"],
        ["collectstatic", "--no-input", "-v", "0"],
    )
    for step in steps:  # commands built here, no outside input
        subprocess.run(  # noqa: S603
            manage + step, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )


def start_gunicorn(workdir, env, port):
    (workdir / "run").mkdir(exist_ok=True)
    # deploy/gunicorn.conf.py works from OCPIZZA_ROOT/current, the release in production.
    (workdir / "current").symlink_to(ROOT, target_is_directory=True)
    log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 - closed with the process, in main
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "--pythonpath",
            str(LIGHTHOUSE_DIR),  # not bench/ itself: `make bench` runs every bench/*.py
            "lighthouse_wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Gunicorn stopped; see {workdir / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310 - loopback
                return process, base, log
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("Gunicorn did not answer on /healthz within 60 s")


def indexable_paths(base, products, all_products):
    with urllib.request.urlopen(f"{base}/sitemap.xml", timeout=10) as response:  # noqa: S310
        xml = response.read().decode()
    paths = [urlsplit(loc).path for loc in re.findall(r"<loc>([^<]+)</loc>", xml)]
    product_paths = [path for path in paths if PRODUCT_PATH.match(path)]
    others = [path for path in paths if path not in product_paths]
    if not all_products and len(product_paths) > products:
        # Spread the sample over the menu (pizzas, drinks, desserts come in that order).
        step = len(product_paths) / products
        product_paths = [product_paths[int(i * step)] for i in range(products)]
    return others + product_paths


# Lighthouse sometimes cannot read the trace it recorded and says to run it again (NO_NAVSTART,
# NO_FCP): seen on Debian's Chromium 156.0.8078.108 on the second run of a page. It is run again.
RUN_AGAIN = "Please run Lighthouse again"
ATTEMPTS = 3


def run_lighthouse(url, report_path, env, *, attempts=ATTEMPTS):
    attempt = 1
    while True:
        result = lighthouse_once(url, report_path, env)
        if result.returncode == 0 and report_path.exists():
            return json.loads(report_path.read_text())
        if RUN_AGAIN not in result.stderr or attempt == attempts:
            raise RuntimeError(f"Lighthouse failed on {url}:\n{result.stderr[-2000:]}")
        reason = next((line for line in result.stderr.splitlines() if RUN_AGAIN in line), "")
        print(f"  Lighthouse asks to run again ({attempt}/{attempts}): {reason.strip()}", flush=True)
        attempt += 1


def lighthouse_once(url, report_path, env):
    report_path.unlink(missing_ok=True)
    command = [
        str(LIGHTHOUSE_BIN),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report_path}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    return subprocess.run(  # noqa: S603 - our own command line
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def failing_audits(report):
    """(category, audit id, title, display value) of each scored audit below 1 in a category."""
    failures = []
    for category_id in CATEGORIES:
        category = report["categories"][category_id]
        for ref in category["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref.get("weight", 0) == 0 and audit.get("scoreDisplayMode") != "binary":
                continue
            score = audit.get("score")
            if score is None or score >= 1:
                continue
            failures.append((category_id, ref["id"], audit["title"], audit.get("displayValue", "")))
    return failures


def median_run(reports):
    """The run with the median performance score (Lighthouse's advice for variable metrics)."""
    ordered = sorted(reports, key=lambda report: report["categories"]["performance"]["score"] or 0)
    return ordered[(len(ordered) - 1) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="pages to run (default: the sitemap's)")
    parser.add_argument("--products", type=int, default=4, help="product pages sampled (default 4)")
    parser.add_argument("--all-products", action="store_true", help="every product page")
    parser.add_argument("--runs", type=int, default=3, help="runs per page, median kept (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the folder with the JSON reports")
    args = parser.parse_args()

    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chrome).exists():
        print(f"Chromium not found ({chrome}): apt-get install chromium", file=sys.stderr)
        return 2
    install_lighthouse()

    workdir = Path(tempfile.mkdtemp(prefix="ocpizza-lighthouse-"))
    env = site_environment(workdir)
    lighthouse_env = dict(os.environ, CHROME_PATH=chrome)
    process = log = None
    exit_status = 0
    try:
        print(f"Building the site in {workdir} (demo data, collectstatic)…", flush=True)
        build_site(workdir, env)
        process, base, log = start_gunicorn(workdir, env, free_port())
        # Paths given as typed (« /carte/végétarienne/ ») are encoded as the sitemap's are.
        given = [quote(path, safe="/%?=&") for path in args.paths]
        paths = given or indexable_paths(base, args.products, args.all_products)
        # One request per page first: renditions are written on first use, not during the audit.
        for path in paths:
            urllib.request.urlopen(base + path, timeout=30).close()  # noqa: S310 - loopback
        rows, failures = [], {}
        for index, path in enumerate(paths, 1):
            reports = []
            for run in range(1, args.runs + 1):
                print(f"[{index}/{len(paths)}] {path} (run {run})", file=sys.stderr, flush=True)
                report_path = workdir / f"report-{index}-{run}.json"
                reports.append(run_lighthouse(base + path, report_path, lighthouse_env))
            report = median_run(reports)
            scores = [report["categories"][c]["score"] for c in CATEGORIES]
            benchmark = round(report["environment"]["benchmarkIndex"])
            rows.append((path, [None if s is None else round(s * 100) for s in scores], benchmark))
            failures[path] = failing_audits(report)
        width = max(len(path) for path, _, _ in rows)
        print()
        print(f"{'page':<{width}}  perf  a11y  best   seo  cpu")
        for path, scores, benchmark in rows:
            cells = "".join(f"  {'—' if s is None else s:>4}" for s in scores)
            print(f"{path:<{width}}{cells}  {benchmark:>4}")
            if any(s is None or s < 100 for s in scores):
                exit_status = 1
        for path, audits in failures.items():
            for category, audit_id, title, value in audits:
                print(f"  {path}: [{category}] {audit_id}: {title}{f' ({value})' if value else ''}")
        print(
            "\ncpu: Lighthouse's benchmark index of the machine during the kept run; below 1000 the "
            "machine was slower than Lighthouse's reference (busy?), which inflates Total Blocking Time."
        )
        print("\nAll pages at 100/100/100/100." if exit_status == 0 else "\nSome scores are below 100.")
    except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
        print(error, file=sys.stderr)
        exit_status = 2
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
            log.close()
        if args.keep:
            print(f"Reports kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return exit_status


if __name__ == "__main__":
    sys.exit(main())
