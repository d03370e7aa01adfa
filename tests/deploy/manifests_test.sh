#!/usr/bin/env bash
# Checks deploy/'s YAML: it parses, and the pieces agree with each other and
# with the Dockerfile (data directory, port, probes, health check, Services),
# and the metrics scraping and dashboard with the server (issue 14), and
# the replicas on a shared PostgreSQL store (issue 15).
# Exits 77 (skipped) where python3's yaml module is missing.
#   manifests_test.sh SOURCE_DIR
set -euo pipefail
src="${1:?usage: manifests_test.sh SOURCE_DIR}"
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "manifests_test: python3-yaml is not installed; skipped"
  exit 77
fi
exec python3 - "$src" <<'PY'
import re, sys, yaml
src = sys.argv[1]
failures = []
def check(ok, msg):
    if not ok: failures.append(msg)

dockerfile = open(f"{src}/Dockerfile").read()
volume = re.search(r'^VOLUME \["?([^"\]\s]+)', dockerfile, re.M).group(1)
port = int(re.search(r'^EXPOSE (\d+)', dockerfile, re.M).group(1))

compose = yaml.safe_load(open(f"{src}/deploy/compose.yaml"))
svc = compose["services"]["aadd"]
test = " ".join(svc["healthcheck"]["test"])
check("aadctl health" in test and f"localhost:{port}" in test,
      f"compose health check should run aadctl health on port {port}: {test}")
mounts = dict(v.split(":", 1) for v in svc["volumes"])
for name, path in mounts.items():
    check(name in (compose.get("volumes") or {}), f"compose volume '{name}' is not a named volume")
check(volume in mounts.values(), f"compose does not mount the image's data volume {volume}: {mounts}")
check(any(str(p).endswith(f":{port}") for p in svc["ports"]), f"compose publishes no port {port}")

docs = []
for f in ("statefulset.yaml", "service.yaml"):
    docs += [d for d in yaml.safe_load_all(open(f"{src}/deploy/kubernetes/{f}")) if d]
kust = yaml.safe_load(open(f"{src}/deploy/kubernetes/kustomization.yaml"))
check(sorted(kust["resources"]) == ["service.yaml", "statefulset.yaml"],
      f"kustomization lists {kust['resources']}")
sts = [d for d in docs if d["kind"] == "StatefulSet"]
services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
check(len(sts) == 1, f"expected one StatefulSet, found {len(sts)}")
sts = sts[0]
spec = sts["spec"]
labels = spec["template"]["metadata"]["labels"]
check(spec["selector"]["matchLabels"].items() <= labels.items(), "StatefulSet selector does not match its pods")
claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
check(claims, "StatefulSet has no volumeClaimTemplates")
(c,) = spec["template"]["spec"]["containers"]
ports = {p["containerPort"] for p in c["ports"]}
check(port in ports, f"container does not expose {port}: {ports}")
for probe in ("readinessProbe", "livenessProbe"):
    g = c.get(probe, {}).get("grpc")
    check(g is not None and g.get("port") in ports, f"{probe} is not a gRPC probe on the container's port")
for kind in ("requests", "limits"):
    check({"cpu", "memory"} <= set(c.get("resources", {}).get(kind, {})), f"resources.{kind} lacks cpu or memory")
data_mounts = [m for m in c["volumeMounts"] if m["name"] in claims]
check(any(m["mountPath"] == volume for m in data_mounts),
      f"no claim template is mounted at the image's data volume {volume}")
headless = services.get(spec["serviceName"])
check(headless is not None and headless["spec"].get("clusterIP") == "None",
      f"serviceName '{spec['serviceName']}' is not a headless Service")
check(any(s["spec"].get("type", "ClusterIP") == "ClusterIP" and s["spec"].get("clusterIP") != "None"
          for s in services.values()), "no ClusterIP Service")
for name, s in services.items():
    check(s["spec"]["selector"].items() <= labels.items(), f"Service {name} selects no aadd pod")
    check(any(p["port"] == port for p in s["spec"]["ports"]), f"Service {name} is not on port {port}")
    check(all(p["port"] in ports for p in s["spec"]["ports"]),
          f"Service {name} has a port the container does not expose: {s['spec']['ports']}")

# SIGTERM to SIGKILL must leave aadd its drain and its grace (server/main.cc
# defaults where the arguments do not set them), with a margin.
def shutdown_seconds(args):
    flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
    return int(flags.get("drain_seconds", 5)) + int(flags.get("shutdown_grace_seconds", 10))
needed = shutdown_seconds(c.get("args", []))
check(spec["template"]["spec"].get("terminationGracePeriodSeconds", 30) > needed,
      f"terminationGracePeriodSeconds does not exceed drain + grace ({needed} s)")
stop = str(svc.get("stop_grace_period", "10s"))
check(stop.endswith("s") and int(stop[:-1]) > shutdown_seconds(svc.get("command", [])),
      f"compose stop_grace_period {stop} does not exceed drain + grace")

# The TLS overlay (issue 14): the flags' files lie in mounted Secrets, and
# the probes (the kubelet's gRPC probe has no TLS) run aadctl health over TLS.
tls_dir = f"{src}/deploy/kubernetes-tls"
tls_kust = yaml.safe_load(open(f"{tls_dir}/kustomization.yaml"))
check(tls_kust["resources"] == ["../kubernetes"], f"TLS overlay is not over the base: {tls_kust['resources']}")
for patch_file in ("tls-patch.yaml", "mtls-patch.yaml"):
    patch = yaml.safe_load(open(f"{tls_dir}/{patch_file}"))
    (pc,) = patch["spec"]["template"]["spec"]["containers"]
    mounted = [m["mountPath"] for m in pc.get("volumeMounts", [])]
    if patch_file == "mtls-patch.yaml":
        mounted += ["/etc/aadd/tls"]  # tls-patch.yaml's, which it comes on top of
    secrets = {v["name"] for v in patch["spec"]["template"]["spec"]["volumes"] if "secret" in v}
    check({m["name"] for m in pc["volumeMounts"]} <= secrets, f"{patch_file} mounts a volume that is no Secret")
    files = [a.split("=", 1)[1] for a in pc["args"] if a.startswith("--tls_")]
    check(files and all(any(f.startswith(m + "/") for m in mounted) for f in files),
          f"{patch_file}: TLS files {files} not under the mounted Secrets {mounted}")
    check(shutdown_seconds(pc["args"]) == needed, f"{patch_file} changes the drain or grace")
    # A patch replaces the whole list: every base argument must be in it.
    dropped = [a for a in c.get("args", []) if a not in pc["args"]]
    check(not dropped, f"{patch_file} drops the base's arguments {dropped}")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        command = pc[probe]["exec"]["command"]
        check(command[:2] == ["aadctl", "health"] and any(a.startswith("--tls_ca=") for a in command)
              and f"--server=localhost:{port}" in command,
              f"{patch_file} {probe} is not aadctl health over TLS on port {port}: {command}")
        if patch_file == "tls-patch.yaml":
            check(pc[probe].get("grpc", "absent") is None, f"{patch_file} {probe} keeps the plaintext gRPC probe")
compose_tls = yaml.safe_load(open(f"{src}/deploy/compose.tls.yaml"))["services"]["aadd"]
check("--tls_ca" in compose_tls["healthcheck"]["test"], "compose.tls.yaml health check is not over TLS")

nginx = open(f"{src}/deploy/nginx/aadd.conf").read()
check(re.search(r'hash \$http_x_session_id consistent;', nginx), "nginx upstream does not hash x-session-id consistently")
check(re.search(r'grpc_pass grpc://', nginx) and re.search(r'listen \S+ http2;', nginx), "nginx does not proxy gRPC over HTTP/2")
check(len(re.findall(r'^\s*server \S+:%d' % port, nginx, re.M)) >= 2, "nginx upstream lists fewer than two replicas")

# Metrics (issue 14): the scrape configs point at aadd's HTTP port and
# /metrics, and the dashboard parses and uses only metrics the server exports.
http_port = int(re.search(r'ABSL_FLAG\(int, http_port, (\d+)', open(f"{src}/server/main.cc").read()).group(1))
check(http_port in ports, f"container does not expose the HTTP port {http_port}: {ports}")
flags = dict(a[2:].split("=", 1) for a in c.get("args", []) if a.startswith("--") and "=" in a)
check(int(flags.get("http_port", http_port)) == http_port, f"container's --http_port is not {http_port}")
for what, meta in [("pod template", spec["template"]["metadata"]),
                   ("Service aadd-headless", services.get("aadd-headless", {}).get("metadata", {}))]:
    notes = meta.get("annotations") or {}
    check(notes.get("prometheus.io/scrape") == "true", f"{what}: no prometheus.io/scrape: \"true\"")
    check(notes.get("prometheus.io/port") == str(http_port), f"{what}: prometheus.io/port is not {http_port}")
    check(notes.get("prometheus.io/path") == "/metrics", f"{what}: prometheus.io/path is not /metrics")
prom = yaml.safe_load(open(f"{src}/deploy/prometheus/prometheus.yml"))
jobs = [j for j in prom["scrape_configs"]
        if any(f"aadd:{http_port}" in t for sc in j.get("static_configs", []) for t in sc["targets"])]
check(len(jobs) == 1 and jobs[0].get("metrics_path", "/metrics") == "/metrics",
      f"prometheus.yml has no job scraping aadd:{http_port}/metrics")
check("prometheus" in compose["services"], "compose runs no prometheus service")
prom_mounts = " ".join(compose["services"].get("prometheus", {}).get("volumes", []))
check("prometheus/prometheus.yml:/etc/prometheus/prometheus.yml" in prom_mounts,
      "compose's prometheus does not mount deploy/prometheus/prometheus.yml")
import json
dashboard = json.load(open(f"{src}/deploy/grafana/aadd-dashboard.json"))
exported = set(re.findall(r'\.Name\("([a-z_]+)"\)', open(f"{src}/server/metrics/metrics.cc").read()))
check(exported, "no metric names found in server/metrics/metrics.cc")
used = set()
for panel in dashboard["panels"]:
    for target in panel.get("targets", []):
        used |= set(re.findall(r'\b((?:grpc_server|aadd)_[a-z_]+)', target["expr"]))
check(used, "the dashboard queries no aadd metric")
for name in sorted(used):
    base = re.sub(r'_(bucket|count|sum)$', '', name)
    check(name in exported or base in exported, f"the dashboard uses {name}, which aadd does not export")

# Several replicas on a shared PostgreSQL store (issue 15): Compose and
# Kubernetes run aadd with --store from a secret, the password only as
# PGPASSWORD, a --replica_id each, no data volume, and deploy/nginx/aadd.conf
# in front, whose servers are exactly the replicas' stable names.
import os
upstream = re.findall(r'^\s*server ([^\s:]+):(\d+)', nginx, re.M)
nginx_hosts = {h for h, _ in upstream}
check(all(int(p) == port for _, p in upstream), f"nginx upstream servers not all on port {port}: {upstream}")
listen_port = int(re.search(r'^\s*listen (?:\S+:)?(\d+) http2;', nginx, re.M).group(1))
check(re.search(r'^\s*grpc_next_upstream error timeout;', nginx, re.M),
      "nginx does not pass calls it could not deliver to the next replica (grpc_next_upstream error timeout)")
check(all("max_fails=0" not in l for l in re.findall(r'^\s*server \S+:\d+[^;]*;', nginx, re.M)),
      "nginx upstream servers have max_fails=0: a dead replica is never skipped")

def no_password(what, args):
    check(not any("password" in a.lower() for a in args), f"{what} passes a password on the command line: {args}")

rcompose = yaml.safe_load(open(f"{src}/deploy/compose.replicas.yaml"))
rsvcs = rcompose["services"]
pg = rsvcs.get("postgres", {})
check(str(pg.get("image", "")).startswith("postgres:15"), f"compose.replicas.yaml: postgres is not postgres:15: {pg.get('image')}")
pg_mounts = dict(v.split(":", 1) for v in pg.get("volumes", []))
check(any(p == "/var/lib/postgresql/data" and n in (rcompose.get("volumes") or {}) for n, p in pg_mounts.items()),
      "compose.replicas.yaml: postgres keeps its data on no named volume")
secrets = set(rcompose.get("secrets") or {})
pw_file = pg.get("environment", {}).get("POSTGRES_PASSWORD_FILE", "")
check(pw_file.startswith("/run/secrets/") and pw_file.split("/")[-1] in secrets & set(pg.get("secrets", [])),
      f"compose.replicas.yaml: postgres's password is not a Compose secret: {pw_file}")
replicas = {name: s for name, s in rsvcs.items() if any(str(a).startswith("--store=") for a in s.get("command", []))}
check(len(replicas) >= 2, f"compose.replicas.yaml runs fewer than two aadd replicas on --store: {sorted(replicas)}")
replica_ids = []
for name, s in sorted(replicas.items()):
    args = [str(a) for a in s["command"]]
    flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
    check(re.fullmatch(r'postgresql://[^:@/]+@postgres:5432/\w+', flags.get("store", "")),
          f"compose.replicas.yaml {name}: --store is not a postgresql:// URI of the postgres service without a password: {flags.get('store')}")
    replica_ids.append(flags.get("replica_id"))
    no_password(f"compose.replicas.yaml {name}", args)
    entry = " ".join(s.get("entrypoint", []))
    check(re.search(r'PGPASSWORD="\$\$\(cat /run/secrets/(\w+)\)"', entry)
          and re.search(r'/run/secrets/(\w+)', entry).group(1) in secrets & set(s.get("secrets", [])),
          f"compose.replicas.yaml {name}: PGPASSWORD does not come from a Compose secret it mounts: {entry}")
    check("--data_dir" not in entry and not s.get("volumes"), f"compose.replicas.yaml {name}: a data directory besides --store")
    test = " ".join(s["healthcheck"]["test"])
    check("aadctl health" in test and f"localhost:{port}" in test, f"compose.replicas.yaml {name}: health check is not aadctl health on {port}")
    check((s.get("depends_on") or {}).get("postgres", {}).get("condition") == "service_healthy",
          f"compose.replicas.yaml {name}: does not wait for a healthy postgres")
    stop = str(s.get("stop_grace_period", "10s"))
    check(stop.endswith("s") and int(stop[:-1]) > shutdown_seconds(args),
          f"compose.replicas.yaml {name}: stop_grace_period {stop} does not exceed drain + grace")
check(None not in replica_ids and len(set(replica_ids)) == len(replica_ids),
      f"compose.replicas.yaml: the replicas' --replica_id are not distinct: {replica_ids}")
check(nginx_hosts == set(replicas), f"nginx upstream servers {sorted(nginx_hosts)} are not the compose replicas {sorted(replicas)}")
ngx = rsvcs.get("nginx", {})
check(any(v.startswith("./nginx/aadd.conf:/etc/nginx/conf.d/") for v in ngx.get("volumes", [])),
      "compose.replicas.yaml: nginx does not mount deploy/nginx/aadd.conf into /etc/nginx/conf.d")
check(any(str(p).endswith(f":{listen_port}") for p in ngx.get("ports", [])), f"compose.replicas.yaml: nginx publishes no port {listen_port}")
# nginx resolves its servers once: each replica has a fixed address, and
# nginx finds it in /etc/hosts even while that replica is down.
fixed = {n: ((s.get("networks") or {}).get("aadd") or {}).get("ipv4_address") for n, s in replicas.items()}
hosts = dict(h.split(":", 1) for h in ngx.get("extra_hosts", []))
check(all(fixed.values()) and hosts == fixed, f"compose.replicas.yaml: nginx's extra_hosts {hosts} are not the replicas' fixed addresses {fixed}")
rprom_mounts = " ".join(rsvcs.get("prometheus", {}).get("volumes", []))
check("prometheus/prometheus.replicas.yml:/etc/prometheus/prometheus.yml" in rprom_mounts,
      "compose.replicas.yaml: prometheus does not mount deploy/prometheus/prometheus.replicas.yml")
rprom = yaml.safe_load(open(f"{src}/deploy/prometheus/prometheus.replicas.yml"))
targets = {t for j in rprom["scrape_configs"] if j.get("metrics_path", "/metrics") == "/metrics"
           for sc in j.get("static_configs", []) for t in sc["targets"]}
check(targets == {f"{n}:{http_port}" for n in replicas},
      f"prometheus.replicas.yml scrapes {sorted(targets)}, not every replica's :{http_port}/metrics")
check("grafana" in rsvcs, "compose.replicas.yaml runs no grafana")

kdir = f"{src}/deploy/kubernetes-replicas"
rkust = yaml.safe_load(open(f"{kdir}/kustomization.yaml"))
on_disk = sorted(f for f in os.listdir(kdir) if f.endswith(".yaml") and f != "kustomization.yaml")
check(sorted(rkust["resources"]) == on_disk, f"kubernetes-replicas kustomization lists {rkust['resources']}, the folder holds {on_disk}")
rdocs = [d for f in on_disk for d in yaml.safe_load_all(open(f"{kdir}/{f}")) if d]
by_kind = lambda k: [d for d in rdocs if d["kind"] == k]
(rsts,) = by_kind("StatefulSet") or [None]
rspec = rsts["spec"]
rlabels = rspec["template"]["metadata"]["labels"]
check(not rspec.get("volumeClaimTemplates"), "kubernetes-replicas: the StatefulSet still has volumeClaimTemplates")
(rc,) = rspec["template"]["spec"]["containers"]
check(all(m["mountPath"] != volume for m in rc.get("volumeMounts", [])), f"kubernetes-replicas: something is mounted at {volume}")
check(rc.get("command") == ["aadd"], f"kubernetes-replicas: the container keeps the image's entrypoint (--data_dir): {rc.get('command')}")
rargs = rc.get("args", [])
no_password("kubernetes-replicas aadd", rargs)
env = {e["name"]: e.get("valueFrom", {}) for e in rc.get("env", [])}
def env_of(flag):
    m = [re.fullmatch(r'--%s=\$\((\w+)\)' % flag, a) for a in rargs]
    m = [x.group(1) for x in m if x]
    return env.get(m[0]) if m else None
check(env_of("store") == {"secretKeyRef": {"name": "aadd-store", "key": "uri"}},
      f"kubernetes-replicas: --store is not $(VAR) from the Secret aadd-store, key uri: {env_of('store')}")
check(env.get("PGPASSWORD", {}).get("secretKeyRef", {}).get("name") == "aadd-store",
      "kubernetes-replicas: PGPASSWORD does not come from the Secret aadd-store")
check(env_of("replica_id") == {"fieldRef": {"fieldPath": "metadata.name"}},
      f"kubernetes-replicas: --replica_id is not the pod's name: {env_of('replica_id')}")
rports = {p["containerPort"] for p in rc["ports"]}
check({port, http_port} <= rports, f"kubernetes-replicas: the container does not expose {port} and {http_port}: {rports}")
for probe in ("readinessProbe", "livenessProbe"):
    g = rc.get(probe, {}).get("grpc")
    check(g is not None and g.get("port") in rports, f"kubernetes-replicas: {probe} is not a gRPC probe on the container's port")
for kind in ("requests", "limits"):
    check({"cpu", "memory"} <= set(rc.get("resources", {}).get(kind, {})), f"kubernetes-replicas: resources.{kind} lacks cpu or memory")
check(rspec["template"]["spec"].get("terminationGracePeriodSeconds", 30) > shutdown_seconds(rargs),
      "kubernetes-replicas: terminationGracePeriodSeconds does not exceed drain + grace")
notes = rspec["template"]["metadata"].get("annotations") or {}
check(notes.get("prometheus.io/port") == str(http_port) and notes.get("prometheus.io/path") == "/metrics",
      "kubernetes-replicas: the pods carry no prometheus.io annotations for /metrics")
rservices = {d["metadata"]["name"]: d for d in by_kind("Service")}
rheadless = rservices.get(rspec["serviceName"])
check(rheadless is not None and rheadless["spec"].get("clusterIP") == "None",
      f"kubernetes-replicas: serviceName '{rspec['serviceName']}' is not a headless Service")
# One Service per pod, named as the pod: what nginx lists.
pod_names = {f"{rsts['metadata']['name']}-{i}" for i in range(rspec["replicas"])}
for name in sorted(pod_names):
    s = rservices.get(name)
    check(s is not None and s["spec"].get("clusterIP") != "None"
          and s["spec"]["selector"] == {**rspec["selector"]["matchLabels"], "statefulset.kubernetes.io/pod-name": name}
          and any(p["port"] == port for p in s["spec"]["ports"]),
          f"kubernetes-replicas: no ClusterIP Service {name} on port {port} selecting the pod {name} alone")
check(nginx_hosts == pod_names, f"nginx upstream servers {sorted(nginx_hosts)} are not the pods' Services {sorted(pod_names)}")
(proxy,) = by_kind("Deployment") or [None]
plabels = proxy["spec"]["template"]["metadata"]["labels"]
(pc,) = proxy["spec"]["template"]["spec"]["containers"]
conf_volumes = {v["name"] for v in proxy["spec"]["template"]["spec"]["volumes"]
                if v.get("configMap", {}).get("name") == "aadd-nginx"}
check(any(m["name"] in conf_volumes and m["mountPath"] == "/etc/nginx/conf.d" for m in pc.get("volumeMounts", [])),
      "kubernetes-replicas: the proxy does not mount the ConfigMap aadd-nginx at /etc/nginx/conf.d")
check(any(p["containerPort"] == listen_port for p in pc["ports"]), f"kubernetes-replicas: the proxy does not expose nginx's port {listen_port}")
front = rservices.get("aadd")
check(front is not None and front["spec"]["selector"].items() <= plabels.items(),
      "kubernetes-replicas: the Service aadd does not select the proxy")
for name, s in rservices.items():
    # The StatefulSet controller labels each pod with its name.
    sel = dict(s["spec"]["selector"])
    pod = sel.pop("statefulset.kubernetes.io/pod-name", None)
    check((sel.items() <= rlabels.items() and pod in pod_names | {None}) or (pod is None and sel.items() <= plabels.items()),
          f"kubernetes-replicas: Service {name} selects no pod")

for f in failures: print("FAIL:", f, file=sys.stderr)
if failures: sys.exit(1)
print("manifests_test: compose, Kubernetes (one store per replica, and shared), nginx, Prometheus and the dashboard agree with the Dockerfile and the server")
PY
