"""The configuration-file part of `make demo`: one evaluation through the
GOFF configuration examples/goff-proxy.yaml (its "local" flag set: a file
retriever, file and log exporters, a webhook notifier), by the `vexil`
command, with the notifier pointed by GOFF's environment override at a
listener started here. Then the same file from Python.

    python examples/config_file_demo.py out/vexil
"""

import http.server
import json
import os
import subprocess
import sys
import threading

import vexil

cli = sys.argv[1] if len(sys.argv) > 1 else "out/vexil"
config = "examples/goff-proxy.yaml"
received = []


class Listener(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
threading.Thread(target=server.serve_forever, daemon=True).start()
hook = f"http://127.0.0.1:{server.server_address[1]}/vexil-changes"
env = dict(os.environ, FLAGSETS_0_NOTIFIERS_0_ENDPOINTURL=hook)

print(f"$ FLAGSETS_0_NOTIFIERS_0_ENDPOINTURL={hook} \\\n"
      f"  {cli} eval --config-file {config} --flagset local --flag banner-color \\\n"
      "  --context '{\"targetingKey\":\"ada\",\"email\":\"ada@example.com\"}'", flush=True)
subprocess.run([cli, "eval", "--config-file", config, "--flagset", "local", "--flag",
                "banner-color", "--context", '{"targetingKey":"ada","email":"ada@example.com"}'],
               env=env, check=True)
for note in received:
    added = sorted(note["flags"]["added"])
    print(f"  webhook notifier: {len(added)} flags added ({', '.join(added)}), "
          f"meta {note['meta']['source']}")

os.environ["FLAGSETS_0_NOTIFIERS_0_ENDPOINTURL"] = hook
with vexil.Engine.from_config(config, flagset="local") as engine:
    print("  Python Engine.from_config:",
          engine.string_value("banner-color", "", {"targetingKey": "bob", "country": "DE"}))
server.shutdown()
