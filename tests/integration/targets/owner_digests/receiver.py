"""A webhook receiver on 127.0.0.1 that appends each POST (its Authorization header and body) to a file.

Usage: python receiver.py RECORD PORT_FILE

It writes the port it listens on to PORT_FILE (atomically) and serves until it is killed by its PID.
"""

from __future__ import annotations

import http.server
import json
import os
import sys


class Receiver(http.server.BaseHTTPRequestHandler):
    record = ""

    def do_POST(self):  # pylint: disable=invalid-name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
        with open(self.record, "a", encoding="utf-8") as out:
            out.write(json.dumps({"authorization": self.headers.get("Authorization"), "body": body}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


def main(record, port_file):
    Receiver.record = record
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    with open(port_file + ".tmp", "w", encoding="utf-8") as out:
        out.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
