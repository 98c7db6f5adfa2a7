#!/bin/bash
# Redeploy scripts: replace a named container, stop/start/restart, restart
# policies, health going bad, and the prune commands CI cleanup runs.
set -eu
trap 'docker rm -f web flaky sick >/dev/null 2>&1 || true' EXIT
deploy() {
  docker rm -f web >/dev/null 2>&1 || true
  docker run -d --name web -e "RELEASE=$1" "$IMG" sleep 300 >/dev/null
}
deploy v1
first=$(docker inspect -f '{{.Id}}' web)
deploy v2
[ "$(docker inspect -f '{{.Id}}' web)" != "$first" ]
docker inspect -f '{{range .Config.Env}}{{.}}{{"\n"}}{{end}}' web | grep -qx RELEASE=v2
# A name in use is refused with 125.
set +e; docker run -d --name web "$IMG" true >/dev/null 2>&1; rc=$?; set -e
[ $rc = 125 ]

docker stop -t 1 web >/dev/null
[ "$(docker inspect -f '{{.State.Status}}' web)" = exited ]
docker start web | grep -qx web
[ "$(docker inspect -f '{{.State.Running}}' web)" = true ]
pid1=$(docker inspect -f '{{.State.Pid}}' web)
docker restart -t 1 web | grep -qx web
[ "$(docker inspect -f '{{.State.Running}}' web)" = true ]
[ "$(docker inspect -f '{{.State.Pid}}' web)" != "$pid1" ]

# on-failure:2 restarts twice, then leaves it exited.
docker run -d --name flaky --restart on-failure:2 "$IMG" sh -c 'exit 1' >/dev/null
for i in $(seq 1 60); do
  [ "$(docker inspect -f '{{.RestartCount}} {{.State.Status}}' flaky)" = "2 exited" ] && break
  sleep 0.5
done
[ "$(docker inspect -f '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' flaky)" = "2 exited 1" ]
[ "$(docker inspect -f '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' flaky)" = on-failure:2 ]

# A failing health check ends unhealthy.
docker run -d --name sick --health-cmd false --health-interval=1s --health-retries=2 "$IMG" sleep 300 >/dev/null
status=
for i in $(seq 1 30); do
  status=$(docker inspect -f '{{.State.Health.Status}}' sick)
  [ "$status" = unhealthy ] && break
  sleep 1
done
[ "$status" = unhealthy ]
[ "$(docker ps -q -f health=unhealthy)" = "$(docker inspect -f '{{.Id}}' sick | cut -c1-12)" ]

# Cleanup steps.
docker rm -f sick >/dev/null
docker stop -t 1 web >/dev/null
docker container prune -f >/dev/null
[ -z "$(docker ps -aq)" ]
docker system prune -af >/dev/null
[ -z "$(docker images -q)" ]
