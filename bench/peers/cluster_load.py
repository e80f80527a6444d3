"""Cluster benchmark load (bench/cluster.sh). `python3 cluster_load.py BASE_URL TOKEN DSN N CONC`
starts N three-step workflows through BASE_URL with CONC concurrent clients, waits until the
database has none unfinished, and prints `workflows_per_s=<x>` (started to last completed).
`python3 cluster_load.py hop BASE_URL TOKEN ID COUNT` times COUNT sequential `PATCH .../state`
`pause` requests for the paused execution ID (answered by the node that runs it) and prints
`p50_ms=<x> p99_ms=<y>`."""
import http.client, json, sys, threading, time, urllib.parse
import psycopg2


def conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def call(c, method, path, token, body=None):
    headers = {"Authorization": "Bearer " + token}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    c.request(method, path, data, headers)
    r = c.getresponse()
    return r.status, r.read()


def load(base, token, dsn, n, conc):
    spec = {"workflow_type": "sequential", "participating_agents": ["chat", "brand_design", "content_creation"],
            "input_data": {"message": "Plan a campaign."}}
    left = [n]
    lock = threading.Lock()
    errors = []

    def client():
        c = conn(base)
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            status, body = call(c, "POST", "/api/agents/workflows/execute", token, spec)
            if status != 202:
                errors.append((status, body[:200]))

    db = psycopg2.connect(dsn)
    db.autocommit = True
    t0 = time.time()
    threads = [threading.Thread(target=client) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cur = db.cursor()
    while True:
        cur.execute("SELECT count(*) FILTER (WHERE completed_at IS NULL), max(completed_at) - min(started_at),"
                    " count(*) FILTER (WHERE current_state <> 'completed' AND completed_at IS NOT NULL)"
                    " FROM workflow_executions")
        open_, span, bad = cur.fetchone()
        if open_ == 0:
            break
        if time.time() - t0 > 300:
            sys.exit("workflows did not finish: %d open" % open_)
        time.sleep(0.2)
    if errors:
        sys.exit("errors: %r" % errors[:3])
    print("workflows_per_s=%.1f not_completed=%d" % (n / span.total_seconds(), bad))


def hop(base, token, wid, count):
    c = conn(base)
    path = "/api/agents/workflows/%s/state" % wid
    times = []
    for _ in range(count):
        t = time.perf_counter()
        status, body = call(c, "PATCH", path, token, {"action": "pause"})
        times.append((time.perf_counter() - t) * 1000)
        if status != 200:
            sys.exit("hop: %d %s" % (status, body[:200]))
    times.sort()
    print("p50_ms=%.3f p99_ms=%.3f" % (times[len(times) // 2], times[int(len(times) * 0.99)]))


if sys.argv[1] == "hop":
    hop(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
else:
    load(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
