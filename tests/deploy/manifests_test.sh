#!/usr/bin/env bash
# Checks deploy/'s YAML: it parses, and the pieces agree with each other and
# with the Dockerfile (data directory, port, probes, health check, Services),
# and the metrics scraping and dashboard with the server (issue 14).
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

for f in failures: print("FAIL:", f, file=sys.stderr)
if failures: sys.exit(1)
print("manifests_test: compose, Kubernetes, nginx, Prometheus and the dashboard agree with the Dockerfile and the server")
PY
