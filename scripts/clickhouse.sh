#!/usr/bin/env bash
# A private ClickHouse server for wapipe's tests and demo.
#
# It never touches the system service: it writes its own config into $WAPIPE_CH_DIR, keeps its data, logs and
# pid file there, listens on 127.0.0.1 only, and runs as whoever calls it (root included). The config uses the
# <yandex> root element so the same file serves Debian's 18.16 (what CI has) and current releases.
#
#   scripts/clickhouse.sh install|start|stop|status|wait|addr|client [clickhouse-client args...]
#
# Environment: WAPIPE_CH_DIR (default <repo>/.clickhouse), WAPIPE_CH_PORT (native, 19000),
# WAPIPE_CH_HTTP_PORT (18123), WAPIPE_CH_WAIT (seconds start/wait allow, 60).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CH_DIR=${WAPIPE_CH_DIR:-$REPO/.clickhouse}
PORT=${WAPIPE_CH_PORT:-19000}
HTTP_PORT=${WAPIPE_CH_HTTP_PORT:-18123}
WAIT=${WAPIPE_CH_WAIT:-60}
[[ $CH_DIR == /* ]] || CH_DIR=$PWD/$CH_DIR # the daemon resolves paths against its own cwd, not ours
PIDFILE=$CH_DIR/clickhouse-server.pid

log() { echo "clickhouse.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# server_bin: Debian puts the server in /usr/sbin; upstream packages put a symlink on PATH.
server_bin() {
	if [[ -x /usr/sbin/clickhouse-server ]]; then echo /usr/sbin/clickhouse-server; else command -v clickhouse-server || true; fi
}

cmd_install() {
	if [[ -n $(server_bin) ]] && command -v clickhouse-client >/dev/null; then return 0; fi
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "clickhouse-server is missing and installing it needs root (no sudo here)"
		sudo=(sudo)
	fi
	log "installing clickhouse-server and clickhouse-client with apt-get"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q clickhouse-server clickhouse-client
	[[ -n $(server_bin) ]] || die "apt-get finished but clickhouse-server is still missing"
}

answering() {
	# The native port is what wapipe uses, so ask through it rather than through HTTP. The timeout covers
	# something else holding the port and never answering (the client would wait minutes).
	timeout 10 clickhouse-client --host 127.0.0.1 --port "$PORT" --query 'SELECT 1' >/dev/null 2>&1
}

# our_pid prints the pid from the pid file when that process is alive and is a ClickHouse server
# (a stale file left by a crash may name a pid the kernel has since given to something else).
our_pid() {
	[[ -f $PIDFILE ]] || return 1
	local pid
	pid=$(tr -dc 0-9 <"$PIDFILE")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) == clickhouse* ]] || return 1
	echo "$pid"
}

log_tail() {
	local f
	for f in "$CH_DIR"/log/clickhouse-server.err.log "$CH_DIR"/log/stderr.log; do
		[[ -s $f ]] && { log "--- tail of $f"; tail -n 30 "$f" >&2; }
	done
	return 0
}

# cmd_wait polls until the server answers. With "ours" it also gives up as soon as the server we just
# launched has exited (a busy port, a bad config), instead of sitting out the whole deadline.
cmd_wait() {
	local deadline=$((SECONDS + WAIT)) started=$SECONDS
	until answering; do
		if [[ ${1:-} == ours ]] && ((SECONDS - started >= 2)) && ! our_pid >/dev/null; then
			log "the server exited during startup"
			log_tail
			return 1
		fi
		if ((SECONDS >= deadline)); then
			log "ClickHouse on 127.0.0.1:$PORT did not answer within ${WAIT}s"
			log_tail
			return 1
		fi
		sleep 0.5
	done
}

write_config() {
	mkdir -p "$CH_DIR"/{data,tmp,log,user_files}
	# Keep the instance out of git without touching the repository's own ignore rules.
	echo '*' >"$CH_DIR/.gitignore"
	# Small caches and a warning-level log: this is a test server on a shared machine. No interserver port
	# and no query_log section, so nothing beyond the native and HTTP ports is opened and no system tables grow.
	cat >"$CH_DIR/config.xml" <<-EOF
		<?xml version="1.0"?>
		<yandex>
		    <logger>
		        <level>warning</level><size>10M</size><count>2</count>
		        <log>$CH_DIR/log/clickhouse-server.log</log>
		        <errorlog>$CH_DIR/log/clickhouse-server.err.log</errorlog>
		    </logger>
		    <listen_host>127.0.0.1</listen_host>
		    <tcp_port>$PORT</tcp_port>
		    <http_port>$HTTP_PORT</http_port>
		    <path>$CH_DIR/data/</path>
		    <tmp_path>$CH_DIR/tmp/</tmp_path>
		    <user_files_path>$CH_DIR/user_files/</user_files_path>
		    <users_config>$CH_DIR/users.xml</users_config>
		    <default_profile>default</default_profile>
		    <default_database>default</default_database>
		    <timezone>UTC</timezone>
		    <mark_cache_size>268435456</mark_cache_size><uncompressed_cache_size>268435456</uncompressed_cache_size>
		    <max_table_size_to_drop>0</max_table_size_to_drop><max_partition_size_to_drop>0</max_partition_size_to_drop>
		</yandex>
	EOF
	# 18.16 refuses to start without profiles, quotas and users; the default user has no password and may
	# connect from loopback only. wapipe_password_user has a password, for the tests of --clickhouse-username
	# and --clickhouse-password (a known test password: this server listens on loopback only).
	cat >"$CH_DIR/users.xml" <<-'EOF'
		<?xml version="1.0"?>
		<yandex>
		    <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
		    <users>
		        <default>
		            <password></password>
		            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
		            <profile>default</profile>
		            <quota>default</quota>
		        </default>
		        <wapipe_password_user>
		            <password>wapipe-test-password</password>
		            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
		            <profile>default</profile>
		            <quota>default</quota>
		        </wapipe_password_user>
		    </users>
		    <quotas><default><interval>
		        <duration>3600</duration><queries>0</queries><errors>0</errors>
		        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
		    </interval></default></quotas>
		</yandex>
	EOF
}

# lock serialises start and stop, so two `make test` runs cannot launch two servers on one directory.
lock() {
	mkdir -p "$CH_DIR"
	exec 9>"$CH_DIR/.lock"
	if command -v flock >/dev/null; then flock 9; fi
}

cmd_start() {
	cmd_install
	lock
	if answering; then
		log "already answering on 127.0.0.1:$PORT"
		return 0
	fi
	if our_pid >/dev/null; then
		# Started by an earlier call and still booting (or replaying parts): give it the same deadline.
		log "server $(our_pid) is running but not answering yet; waiting"
		cmd_wait ours
		return
	fi
	rm -f "$PIDFILE"
	write_config
	log "starting ClickHouse in $CH_DIR (native 127.0.0.1:$PORT, http 127.0.0.1:$HTTP_PORT)"
	# 9>&-: the daemon must not inherit the lock, or it would hold it for its whole life.
	(cd "$CH_DIR" && "$(server_bin)" --daemon --pid-file="$PIDFILE" --config-file="$CH_DIR/config.xml" 9>&-)
	cmd_wait ours
}

cmd_stop() {
	lock
	local pid deadline=$((SECONDS + 30))
	if ! pid=$(our_pid); then
		rm -f "$PIDFILE"
		log "no server of ours in $CH_DIR$(answering && echo ", though something answers on port $PORT")"
		return 0
	fi
	kill -TERM "$pid"
	# A clean shutdown lets MergeTree finish writing parts; force it only when it hangs.
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
	if kill -0 "$pid" 2>/dev/null; then
		log "server $pid ignored SIGTERM for 30s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
	fi
	rm -f "$PIDFILE"
	log "stopped"
}

cmd_status() {
	if answering; then echo "answering on 127.0.0.1:$PORT"; else echo "not answering on 127.0.0.1:$PORT" && return 1; fi
}

case ${1:-} in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
wait) cmd_wait ;;
addr) echo "127.0.0.1:$PORT" ;;
client) shift && exec clickhouse-client --host 127.0.0.1 --port "$PORT" "$@" ;;
*) echo "usage: $0 install|start|stop|status|wait|addr|client [args...]" >&2 && exit 2 ;;
esac
