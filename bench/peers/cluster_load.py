"""Cluster benchmark load (bench/cluster.sh). `python3 cluster_load.py BASE_URL TOKEN DSN N CONC`
starts N three-step workflows through BASE_URL with CONC concurrent clients, waits until the
database has none unfinished, and prints `workflows_per_s=<x>` (started to last completed).
`python3 cluster_load.py hop BASE_URL TOKEN ID COUNT` times COUNT sequential `PATCH .../state`
`pause` requests for the paused execution ID (answered by the node that runs it) and prints
`p50_ms=<x> p99_ms=<y>`.
`python3 cluster_load.py chat BASE_URL N CONC` sends N chat turns with CONC clients, each on
its own conversation (so a cluster spreads them over its workers), and prints
`turns_per_s=<x> p50_ms=<y> p99_ms=<z>`.
`python3 cluster_load.py msgs BASE_URL TOKEN IDS N CONC` posts N agent messages (chat ->
brand_design) spread over the comma-separated executions IDS with CONC clients and prints
`messages_per_s=<x> p50_ms=<y> p99_ms=<z>`."""
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
    db = psycopg2.connect(dsn)
    db.autocommit = True
    t0 = time.time()
    spread(base, n, conc, lambda c, k, i: call(c, "POST", "/api/agents/workflows/execute", token, spec),
           ok=(202,))
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


def spread(base, n, conc, one, ok=(200, 201)):
    """Runs `one(connection, client_index, i)` n times over conc clients (each answer's status
    must be in `ok`); returns (per_s, sorted latencies in ms)."""
    left = [n]
    lock = threading.Lock()
    times, errors = [], []

    def client(k):
        c = conn(base)
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
                i = left[0]
            t = time.perf_counter()
            status, body = one(c, k, i)
            with lock:
                times.append((time.perf_counter() - t) * 1000)
                if status not in ok:
                    errors.append((status, body[:200]))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    span = time.perf_counter() - t0
    if errors:
        sys.exit("errors (%d): %r" % (len(errors), errors[:3]))
    times.sort()
    return n / span, times


def chat(base, n, conc):
    convs = {}

    def one(c, k, i):
        body = {"message": "Hello, turn %d" % i}
        if k in convs:
            body["conversation_id"] = convs[k]
        c.request("POST", "/api/chat/message", json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        if r.status == 200 and k not in convs:
            convs[k] = json.loads(data)["conversation_id"]
        return r.status, data

    per_s, times = spread(base, n, conc, one)
    print("turns_per_s=%.1f p50_ms=%.2f p99_ms=%.2f" % (per_s, times[len(times) // 2], times[int(len(times) * 0.99)]))


def msgs(base, token, ids, n, conc):
    ids = ids.split(",")
    body = {"from_agent": "chat", "to_agent": "brand_design", "message_type": "notification",
            "content": {"text": "status update"}}

    def one(c, k, i):
        return call(c, "POST", "/api/agents/workflows/%s/messages" % ids[i % len(ids)], token, body)

    per_s, times = spread(base, n, conc, one)
    print("messages_per_s=%.1f p50_ms=%.2f p99_ms=%.2f" % (per_s, times[len(times) // 2], times[int(len(times) * 0.99)]))


if sys.argv[1] == "chat":
    chat(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
elif sys.argv[1] == "msgs":
    msgs(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
elif sys.argv[1] == "hop":
    hop(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
else:
    load(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
