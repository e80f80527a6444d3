"""An instant fake Ollama for the cluster benchmark: GET /api/tags, POST /api/chat (one NDJSON
piece, then done). `python3 fake_ollama.py PORT [delay_s]`. Threads per connection; not a
capacity peer, the same for every round of one run."""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELAY = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, body, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(json.dumps({"models": [{"name": "llama3.2"}]}).encode(), "application/json")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if DELAY:
            time.sleep(DELAY)
        lines = [{"model": "llama3.2", "message": {"role": "assistant", "content": "ok"}, "done": False},
                 {"model": "llama3.2", "message": {"role": "assistant", "content": ""}, "done": True,
                  "prompt_eval_count": 1, "eval_count": 1}]
        self.reply(("\n".join(json.dumps(x) for x in lines) + "\n").encode(), "application/x-ndjson")


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 1024
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
