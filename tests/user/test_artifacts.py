"""Each artifact of `make dist`, installed outside the checkout as a user
would install it, runs a small program: the C library through pkg-config,
the wheel in a fresh venv, the npm package in a fresh app. The wheel and the
npm package must carry every library the build links: their programs run
with those libraries (and every header) hidden, and ldd shows only bundled
or manylinux-allowed libraries. No install step finds a compiler on PATH."""

from __future__ import annotations

import json
import os
import re
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import (ROOT, SDK_VERSION, VERSION, Installs, build_libraries, hidden_run, ldd,
                      manylinux_allowed, npm_install, run)

FLAGS = """\
greeting:
  variations: { hello: "hello", bonjour: "bonjour" }
  targeting:
    - name: french
      query: lang eq "fr"
      variation: bonjour
  defaultRule: { variation: hello }
"""


@pytest.fixture
def work(installs: Installs, tmp_path_factory) -> Path:
    """A folder of the user's, outside the checkout, with a flag file."""
    d = Path(tmp_path_factory.mktemp("work", numbered=True))
    d = installs.root / f"work-{d.name}"
    d.mkdir()
    (d / "flags.yaml").write_text(FLAGS)
    return d


def assert_self_contained(binary: Path, package_dir: Path, tag: str) -> None:
    """Every library binary needs resolves inside package_dir or is one the
    manylinux policy `tag` promises."""
    allowed = manylinux_allowed(tag)
    libs = ldd(binary)
    assert libs, f"ldd found no libraries for {binary}"
    for name, where in libs.items():
        assert where is not None, f"{binary}: {name} not found"
        inside = Path(os.path.realpath(where)).is_relative_to(os.path.realpath(package_dir))
        assert inside or name in allowed, f"{binary} needs {name} from {where}: neither bundled nor allowed by {tag}"
    bundled = [n for n, w in libs.items() if Path(os.path.realpath(w)).is_relative_to(
        os.path.realpath(package_dir))]
    assert any(n.startswith("libcurl") for n in bundled), f"libcurl is not bundled: {libs}"


# ---- versions --------------------------------------------------------------------------

def test_one_version_everywhere():
    pyproject = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    package = json.loads((ROOT / "package.json").read_text())
    assert pyproject.group(1) == VERSION
    assert package["version"] == VERSION
    init = (ROOT / "python/vexil/__init__.py").read_text()
    assert f'__version__ = "{VERSION}"' in init
    assert package["license"] == "MIT" and "MIT License" in (ROOT / "LICENSE").read_text()


# ---- C ---------------------------------------------------------------------------------

C_PROGRAM = r"""
#include <stdio.h>
#include <vexil.h>

int main(void)
{
    vx_engine *engine;
    vx_error err;
    if (vx_engine_new(&engine) != VX_OK)
        return 1;
    if (vx_engine_load_file(engine, "flags.yaml", VX_FORMAT_AUTO, &err) != VX_OK) {
        fprintf(stderr, "flags.yaml:%d:%d: %s\n", err.line, err.column, err.message);
        return 1;
    }
    vx_context *ctx = vx_context_new("u1");
    vx_context_set_string(ctx, "lang", "fr");
    vx_result r;
    vx_engine_eval_string(engine, "greeting", ctx, "none", &r);
    printf("%s %s %s\n", vx_version(), vx_value_get_string(r.value, NULL), vx_reason_name(r.reason));
    vx_result_release(&r);
    vx_context_free(ctx);
    vx_engine_free(engine);
    return 0;
}
"""


def test_c_install_layout(installs: Installs):
    p = installs.prefix
    for f in ["include/vexil.h", "lib/libvexil.a", f"lib/libvexil.so.{VERSION}",
              "lib/pkgconfig/vexil.pc", "bin/vexil"]:
        assert (p / f).is_file(), f"make install did not install {f}"
    major = VERSION.split(".")[0]
    assert os.readlink(p / "lib" / f"libvexil.so.{major}") == f"libvexil.so.{VERSION}"
    assert os.readlink(p / "lib" / "libvexil.so") == f"libvexil.so.{major}"
    dyn = run(["readelf", "-d", str(p / "lib" / f"libvexil.so.{VERSION}")]).stdout
    assert f"Library soname: [libvexil.so.{major}]" in dyn
    env = installs.env()
    assert run(["pkg-config", "--modversion", "vexil"], env=env).stdout.strip() == VERSION
    assert run(["vexil", "--version"], env=env).stdout.strip() == f"vexil {VERSION}"


@pytest.mark.parametrize("linkage", ["shared", "static"])
def test_c_program_builds_with_pkg_config_and_runs(installs: Installs, work: Path, linkage):
    (work / "app.c").write_text(C_PROGRAM)
    env = installs.env()
    flags = run(["pkg-config", "--cflags", "--libs", *(["--static"] if linkage == "static" else []),
                 "vexil"], env=env).stdout.split()
    if linkage == "static":
        # -lvexil would pick the .so next to the .a: name the archive.
        flags = [f for f in flags if f != "-lvexil"]
        flags.insert(0, str(installs.prefix / "lib" / "libvexil.a"))
    run(["cc", "-o", "app", "app.c", *flags], cwd=work, env=dict(env, CC="cc"))
    r = run(["./app"], cwd=work, env=installs.env())  # no LD_LIBRARY_PATH
    assert r.stdout == f"{VERSION} bonjour TARGETING_MATCH\n"
    libs = ldd(work / "app", env=installs.env())
    if linkage == "shared":
        assert os.path.realpath(libs["libvexil.so." + VERSION.split(".")[0]]) == os.path.realpath(
            installs.prefix / "lib" / f"libvexil.so.{VERSION}")
    else:
        assert not any("libvexil" in n for n in libs)


def test_c_command_lints_and_evaluates(installs: Installs, work: Path):
    env = installs.env()
    assert run(["vexil", "lint", "flags.yaml"], cwd=work, env=env).returncode == 0
    r = run(["vexil", "eval", "--config", "flags.yaml", "--flag", "greeting", "--context",
             '{"targetingKey":"u1","lang":"fr"}'], cwd=work, env=env)
    assert json.loads(r.stdout)["value"] == "bonjour"


# ---- Python ----------------------------------------------------------------------------

PY_PROGRAM = """
import json, sys, vexil
with vexil.Engine.from_file("flags.yaml") as engine:
    got = []
    engine.add_exporter(got.extend)
    d = engine.string_details("greeting", "none", {"targetingKey": "u1", "lang": "fr"})
    engine.flush()
    print(vexil.__version__, d.value, d.reason.value, len(got))
print(sorted(m for m in sys.modules if m.startswith("vexil")) != [], vexil.__file__)
"""


def test_wheel_policy_is_what_auditwheel_shows(installs: Installs):
    out = run([str(Path(sys.executable).parent / "auditwheel"), "show", str(installs.wheel)])
    text = " ".join(out.stdout.split())
    assert f'consistent with the following platform tag: "{installs.wheel_tag}"' in text, text
    with zipfile.ZipFile(installs.wheel) as z:
        names = z.namelist()
    assert any(n.startswith("vexil.libs/libcurl") for n in names), names


def test_wheel_installed_without_compiler_and_runs_with_build_libraries_hidden(installs: Installs,
                                                                                work: Path):
    assert "error" not in installs.logs["python"].lower(), installs.logs["python"]
    (work / "app.py").write_text(PY_PROGRAM)
    hide = build_libraries()
    assert any("libcurl" in str(p) for p in hide) and any("libcjson" in str(p) for p in hide)
    r = hidden_run([str(installs.venv / "bin" / "python"), "app.py"], env=installs.env(),
                   cwd=work, hide=hide)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.splitlines()
    assert first == f"{VERSION} bonjour TARGETING_MATCH 1"
    assert str(installs.venv) in second and str(ROOT) not in second
    (ext,) = (installs.venv / "lib").glob("python*/site-packages/vexil/_vexil*.so")
    assert_self_contained(ext, ext.parent.parent, installs.wheel_tag)


def test_sdist_carries_every_source_the_build_compiles(installs: Installs):
    with tarfile.open(installs.artifact(f"vexil-{VERSION}.tar.gz")) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    wanted = [p.relative_to(ROOT).as_posix() for p in ROOT.glob("csrc/**/*")
              if p.suffix in (".c", ".h") and "cli" not in p.parts]
    wanted += [p.relative_to(ROOT).as_posix() for p in (ROOT / "python/vexil").rglob("*")
               if p.is_file() and p.suffix in (".c", ".h", ".py", ".pyi", ".typed")]
    missing = [w for w in wanted if w not in names]
    assert not missing, f"the sdist lacks {missing}"
    assert "LICENSE" in names and "pyproject.toml" in names


# ---- Node ------------------------------------------------------------------------------

NODE_PROGRAM = """
const fs = require('node:fs');
const vexil = require('vexil');
const { OpenFeature } = require('@openfeature/server-sdk');
(async () => {
  const engine = vexil.Engine.fromFile('flags.yaml');
  const got = [];
  engine.addExporter((events) => { got.push(...events); });
  const d = engine.stringDetails('greeting', 'none', { targetingKey: 'u1', lang: 'fr' });
  await engine.flush();
  await OpenFeature.setProviderAndWait(new vexil.VexilProvider(engine));
  const v = await OpenFeature.getClient().getStringValue('greeting', 'none', { targetingKey: 'u2', lang: 'fr' });
  const sdk = Object.keys(require.cache).filter((k) => k.includes('server-sdk')).map((k) => fs.realpathSync(k));
  console.log(vexil.version, d.value, d.reason, got.length, v);
  console.log(JSON.stringify({ addon: Object.keys(require.cache).find((k) => k.endsWith('.node')), sdk }));
  await OpenFeature.close();
})().catch((e) => { console.error(e); process.exit(1); });
"""


def run_node_app(installs: Installs, app: Path, work: Path):
    (app / "main.js").write_text(NODE_PROGRAM)
    for f in work.iterdir():
        (app / f.name).write_bytes(f.read_bytes())
    r = hidden_run(["node", "main.js"], env=installs.env(), cwd=app, hide=build_libraries())
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.splitlines()
    assert first == f"{VERSION} bonjour TARGETING_MATCH 1 bonjour"
    return json.loads(second)


def installed_scripts(pkg: Path) -> dict:
    return json.loads((pkg / "package.json").read_text()).get("scripts", {})


def test_npm_tarball_installs_without_install_script_and_runs(installs: Installs, work: Path):
    pkg = installs.app / "node_modules" / "vexil"
    scripts = installed_scripts(pkg)
    assert not {"preinstall", "install", "postinstall"} & set(scripts), scripts
    assert json.loads((pkg / "package.json").read_text())["gypfile"] is False
    assert not (pkg / "build").exists(), "npm built the addon instead of using the prebuilt one"
    assert "install script" not in installs.logs["node"].lower(), installs.logs["node"]
    seen = run_node_app(installs, installs.app, work)
    assert "/prebuilds/linux-x64/" in seen["addon"] and seen["addon"].startswith(str(installs.app))
    assert all(p.startswith(str(installs.app / "node_modules" / "@openfeature")) for p in seen["sdk"])
    (addon,) = (pkg / "prebuilds").glob("*/*.node")
    assert_self_contained(addon, pkg / "prebuilds", installs.wheel_tag)


def test_npm_symlinked_install_resolves_the_sdk_from_the_app(installs: Installs, work: Path):
    # `npm install /path/to/vexil`: node_modules/vexil is a link to a folder
    # outside the app, with no @openfeature/server-sdk near it.
    linked = installs.root / "vexil-checkout"
    if not linked.exists():
        with tarfile.open(installs.artifact(f"vexil-{VERSION}.tgz")) as t:
            t.extractall(linked, filter="data")
    src = linked / "package"
    app = installs.root / "linked-app"
    npm_install(app, installs, str(src), f"@openfeature/server-sdk@{SDK_VERSION}")
    assert (app / "node_modules" / "vexil").is_symlink()
    seen = run_node_app(installs, app, work)
    assert seen["sdk"] and all(p.startswith(str(app / "node_modules" / "@openfeature"))
                               for p in seen["sdk"]), seen
    assert seen["addon"].startswith(str(src))


def test_npm_without_a_fitting_binary_says_how_to_build(installs: Installs, work: Path):
    r = run(["node", "-e", "require('vexil')"], cwd=installs.app, check=False,
            env=installs.env(PREBUILDS_ONLY="1", LIBC="musl"))
    assert r.returncode != 0
    assert "npm explore vexil -- npm run build" in r.stderr, r.stderr


def test_hiding_the_build_libraries_does_hide_them(installs: Installs):
    # The checkout's own `vexil` links the system libraries: under the same
    # hiding it cannot start, so the runs above prove something.
    cli = ROOT / "out" / "vexil"
    if not cli.exists():
        run(["make", "-C", str(ROOT), "cli"])
    r = hidden_run([str(cli), "--version"], env=installs.env(), cwd=installs.root,
                   hide=build_libraries())
    assert r.returncode != 0 and "error while loading shared libraries" in r.stderr, r


def test_npm_source_build_fallback(installs: Installs, work: Path):
    # Where no prebuilt binary fits, the README's command builds one from the
    # package's own sources (this one needs the compiler and -dev packages).
    app = installs.root / "source-app"
    npm_install(app, installs, str(installs.artifact(f"vexil-{VERSION}.tgz")))
    env = installs.env()
    env.pop("CC")
    env.pop("CXX")
    r = run(["npm", "explore", "vexil", "--", "npm", "run", "build"], cwd=app, env=env,
            timeout=600)
    built = app / "node_modules" / "vexil" / "build" / "Release" / "vexil.node"
    assert built.is_file(), r.stdout[-2000:]
    probe = ("const v = require('vexil');"
             "const e = new v.Engine({f: {variations: {a: 1}, defaultRule: {variation: 'a'}}});"
             "console.log(e.intValue('f', 0), Object.keys(require.cache).find((k) => k.endsWith('.node')))")
    r = run(["node", "-e", probe], cwd=app, env=installs.env(LIBC="musl"))
    value, addon = r.stdout.split()
    assert value == "1" and addon == str(built)


HTTPS_PROGRAM = """
import sys, vexil
with vexil.Engine.from_file("flags.yaml") as engine:
    hook = engine.add_exporter(vexil.WebhookExporter(sys.argv[1], timeout=5.0),
                               retry_initial=0.05, retry_max=0.1)
    engine.string_value("greeting", "none", {"targetingKey": "u1"})
    print(engine.flush(timeout=5.0), hook.stats()["exported"])
"""


def test_wheel_finds_the_ca_bundle_where_another_distribution_keeps_it(installs: Installs,
                                                                         work: Path):
    # The wheel's libcurl looks where Debian keeps CA certificates. Here that
    # place is empty and only /etc/ssl/cert.pem (Alpine's place) has the CA
    # that signed the server's certificate: verification must still succeed.
    import http.server
    import ssl
    import threading
    crt, key = work / "ca.pem", work / "key.pem"
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
         str(crt)])
    posts = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            posts.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(str(crt), str(key))
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (work / "app.py").write_text(HTTPS_PROGRAM)
        url = f"https://127.0.0.1:{server.server_address[1]}/events"
        r = hidden_run([str(installs.venv / "bin" / "python"), "app.py", url], env=installs.env(),
                       cwd=work, hide=build_libraries(),
                       more=["mount -t tmpfs none /etc/ssl", f"cp '{crt}' /etc/ssl/cert.pem"])
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["True", "1"], r.stdout + r.stderr
        assert len(posts) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_pkg_config_rpath_only_outside_the_loaders_directories(installs: Installs, tmp_path):
    pc = (installs.prefix / "lib" / "pkgconfig" / "vexil.pc").read_text()
    assert "Libs: -L${libdir} -Wl,-rpath,${libdir} -lvexil" in pc
    assert f"libdir={installs.prefix}/lib" in pc
    # Installed under /usr, the loader finds it anyway: no rpath (DESTDIR stages it).
    run(["make", "-s", "-C", str(ROOT), "install", "PREFIX=/usr", f"DESTDIR={tmp_path}"])
    pc = (tmp_path / "usr/lib/pkgconfig/vexil.pc").read_text()
    assert "Libs: -L${libdir} -lvexil" in pc and "rpath" not in pc
