#!/usr/bin/env bash
# A private ClickHouse cluster on loopback for wapipe's cluster tests: one ZooKeeper and SHARDS x REPLICAS
# ClickHouse servers for cluster NAME (default 1 x 2: one shard, two replicas, so a replica can be stopped
# mid-run). With one shard and WAPIPE_CLUSTER_SHARDED=1 (the default) one more server makes a second
# cluster, NAME_sharded: two shards of one replica, node 1 and the extra node, to show that sharding by the
# key keeps FINAL exact. The macros agree across both clusters (node 1 is shard 1 of each).
#
# Each server is a scripts/clickhouse.sh instance (same config, same start and stop) with one more file in
# its config.d/: the cluster (remote_servers), ZooKeeper, its macros ({shard}, {replica}), the distributed
# DDL queue and an interserver port for replication. ZooKeeper is Debian's package (3.8, apt-get installs
# it when missing) run as a plain java process on 127.0.0.1 with its data here, never the system service.
#
#   scripts/cluster.sh start|stop|status|addrs|sharded-addrs|node-start N|node-stop N|client N [args...]
#
# addrs prints the native addresses of NAME's servers, sharded-addrs those of NAME_sharded (comma-separated).
#
# Environment: WAPIPE_CLUSTER_DIR (default <repo>/.cluster), WAPIPE_CLUSTER_NAME (wapipe),
# WAPIPE_CLUSTER_SHARDS (1), WAPIPE_CLUSTER_REPLICAS (2), WAPIPE_CLUSTER_PORT (first native port, 19201;
# node N has PORT+N-1), WAPIPE_CLUSTER_HTTP_PORT (18301), WAPIPE_CLUSTER_INTERSERVER_PORT (18351),
# WAPIPE_ZK_PORT (2281).
set -euo pipefail
shopt -s extglob

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${WAPIPE_CLUSTER_DIR:-$REPO/.cluster}
[[ $DIR == /* ]] || DIR=$PWD/$DIR
NAME=${WAPIPE_CLUSTER_NAME:-wapipe}
SHARDS=${WAPIPE_CLUSTER_SHARDS:-1}
REPLICAS=${WAPIPE_CLUSTER_REPLICAS:-2}
PORT=${WAPIPE_CLUSTER_PORT:-19201}
HTTP_PORT=${WAPIPE_CLUSTER_HTTP_PORT:-18301}
INTER_PORT=${WAPIPE_CLUSTER_INTERSERVER_PORT:-18351}
ZK_PORT=${WAPIPE_ZK_PORT:-2281}
SHARDED=${WAPIPE_CLUSTER_SHARDED:-1}
NODES=$((SHARDS * REPLICAS))
EXTRA=0 # the node that is shard 2 of NAME_sharded, when there is one
if ((SHARDS == 1 && SHARDED == 1)); then
	EXTRA=$((NODES + 1))
	NODES=$EXTRA
fi
ZK_DIR=$DIR/zookeeper
ZK_PIDFILE=$ZK_DIR/zookeeper.pid

log() { echo "cluster.sh: $*" >&2; }
die() { log "$*"; exit 1; }

node_dir() { echo "$DIR/ch$1"; }
# node_ch runs scripts/clickhouse.sh for node N: its directory and ports, the rest is clickhouse.sh's.
node_ch() {
	local n=$1
	shift
	WAPIPE_CH_DIR=$(node_dir "$n") WAPIPE_CH_PORT=$((PORT + n - 1)) WAPIPE_CH_HTTP_PORT=$((HTTP_PORT + n - 1)) \
		"$REPO/scripts/clickhouse.sh" "$@"
}

zk_install() {
	[[ -f /usr/share/java/zookeeper.jar ]] && return 0
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "zookeeper is missing and installing it needs root (no sudo here)"
		sudo=(sudo)
	fi
	log "installing zookeeper with apt-get"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends zookeeper
	[[ -f /usr/share/java/zookeeper.jar ]] || die "apt-get finished but /usr/share/java/zookeeper.jar is missing"
}

# zk_ok asks ZooKeeper's srvr four-letter word through bash's /dev/tcp (no nc needed). Not ruok: that
# answers imok while ZooKeeper still loads its data and refuses sessions, and a ClickHouse 18.16 started
# then can hang attaching its replicated tables.
zk_ok() {
	local reply
	reply=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ZK_PORT && echo srvr >&3 && cat <&3" 2>/dev/null) || return 1
	[[ $reply == *"Mode: standalone"* ]]
}

zk_pid() {
	[[ -f $ZK_PIDFILE ]] || return 1
	local pid
	pid=$(tr -dc 0-9 <"$ZK_PIDFILE")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == @(java|nohup) ]] || return 1
	echo "$pid"
}

zk_start() {
	zk_install
	if zk_ok; then return 0; fi
	mkdir -p "$ZK_DIR/data"
	# Loopback only, no admin server (it would open 8080), srvr allowed for the check above.
	cat >"$ZK_DIR/zoo.cfg" <<-EOF
		tickTime=2000
		initLimit=10
		syncLimit=5
		dataDir=$ZK_DIR/data
		clientPort=$ZK_PORT
		clientPortAddress=127.0.0.1
		admin.enableServer=false
		4lw.commands.whitelist=ruok,srvr
		maxClientCnxns=0
	EOF
	log "starting ZooKeeper on 127.0.0.1:$ZK_PORT in $ZK_DIR"
	(
		cd "$ZK_DIR"
		nohup java -Xmx256m -cp /usr/share/java/zookeeper.jar org.apache.zookeeper.server.quorum.QuorumPeerMain \
			"$ZK_DIR/zoo.cfg" >"$ZK_DIR/zookeeper.log" 2>&1 &
		echo $! >"$ZK_PIDFILE"
	)
	local deadline=$((SECONDS + 30)) started=$SECONDS
	until zk_ok; do
		# The pid is nohup's until it execs java: judge it only after a moment.
		((SECONDS - started < 2)) || zk_pid >/dev/null || { tail -n 30 "$ZK_DIR/zookeeper.log" >&2; die "ZooKeeper exited during startup"; }
		((SECONDS < deadline)) || { tail -n 30 "$ZK_DIR/zookeeper.log" >&2; die "ZooKeeper did not answer in 30s"; }
		sleep 0.3
	done
}

zk_stop() {
	local pid
	pid=$(zk_pid) || { rm -f "$ZK_PIDFILE"; return 0; }
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
	rm -f "$ZK_PIDFILE"
}

# remote_servers: one <shard> per shard, its replicas in order. internal_replication: a Distributed insert
# writes one replica and replication copies it, instead of the Distributed table writing every replica.
remote_servers() {
	local s r n
	echo "<remote_servers><$NAME>"
	for ((s = 1; s <= SHARDS; s++)); do
		echo "<shard><internal_replication>true</internal_replication>"
		for ((r = 1; r <= REPLICAS; r++)); do
			n=$(((s - 1) * REPLICAS + r))
			echo "<replica><host>127.0.0.1</host><port>$((PORT + n - 1))</port></replica>"
		done
		echo "</shard>"
	done
	echo "</$NAME>"
	if ((EXTRA > 0)); then
		echo "<${NAME}_sharded>"
		for n in 1 "$EXTRA"; do
			echo "<shard><internal_replication>true</internal_replication>"
			echo "<replica><host>127.0.0.1</host><port>$((PORT + n - 1))</port></replica></shard>"
		done
		echo "</${NAME}_sharded>"
	fi
	echo "</remote_servers>"
}

write_node_config() {
	local n=$1 dir shard replica
	dir=$(node_dir "$n")
	shard=$(((n - 1) / REPLICAS + 1))
	replica=$(((n - 1) % REPLICAS + 1))
	if ((n == EXTRA)); then shard=2 replica=1; fi
	mkdir -p "$dir/config.d"
	cat >"$dir/config.d/cluster.xml" <<-EOF
		<?xml version="1.0"?>
		<yandex>
		    $(remote_servers)
		    <zookeeper><node><host>127.0.0.1</host><port>$ZK_PORT</port></node><session_timeout_ms>10000</session_timeout_ms></zookeeper>
		    <macros><shard>$shard</shard><replica>r$n</replica><cluster>$NAME</cluster></macros>
		    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
		    <interserver_http_host>127.0.0.1</interserver_http_host>
		    <interserver_http_port>$((INTER_PORT + n - 1))</interserver_http_port>
		</yandex>
	EOF
	log "node $n: native 127.0.0.1:$((PORT + n - 1)), shard $shard replica r$n$( ((n == EXTRA)) && echo " of ${NAME}_sharded only")"
}

node_start() {
	write_node_config "$1"
	node_ch "$1" start
}

cmd_start() {
	mkdir -p "$DIR"
	echo '*' >"$DIR/.gitignore"
	node_ch 1 install
	zk_start
	local n
	for ((n = 1; n <= NODES; n++)); do node_start "$n"; done
	log "cluster $NAME up: $(cmd_addrs)$( ((EXTRA > 0)) && echo "; ${NAME}_sharded: $(cmd_sharded_addrs)")"
}

cmd_stop() {
	local n
	for ((n = 1; n <= NODES; n++)); do node_ch "$n" stop || true; done
	zk_stop
}

cmd_status() {
	local n rc=0
	if zk_ok; then echo "zookeeper: answering on 127.0.0.1:$ZK_PORT"; else echo "zookeeper: not answering" && rc=1; fi
	for ((n = 1; n <= NODES; n++)); do echo -n "node $n: " && { node_ch "$n" status || rc=1; }; done
	return $rc
}

cmd_addrs() {
	local n out=()
	for ((n = 1; n <= SHARDS * REPLICAS; n++)); do out+=("127.0.0.1:$((PORT + n - 1))"); done
	(IFS=,; echo "${out[*]}")
}

cmd_sharded_addrs() {
	((EXTRA > 0)) || die "no ${NAME}_sharded cluster (it needs WAPIPE_CLUSTER_SHARDS=1 and WAPIPE_CLUSTER_SHARDED=1)"
	echo "127.0.0.1:$PORT,127.0.0.1:$((PORT + EXTRA - 1))"
}

valid_node() { [[ ${1:-} =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= NODES)) || die "node: want 1..$NODES"; }

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
addrs) cmd_addrs ;;
sharded-addrs) cmd_sharded_addrs ;;
node-start) valid_node "${2:-}" && node_start "$2" ;;
node-stop) valid_node "${2:-}" && node_ch "$2" stop ;;
client) valid_node "${2:-}" && n=$2 && shift 2 && node_ch "$n" client "$@" ;;
*) echo "usage: $0 start|stop|status|addrs|sharded-addrs|node-start N|node-stop N|client N [args...]" >&2 && exit 2 ;;
esac
