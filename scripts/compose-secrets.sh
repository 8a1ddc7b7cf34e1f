#!/usr/bin/env bash
# Makes the secrets docker-compose.yml mounts, in ./secrets (or $1): a private CA and the Kafka
# broker's certificate signed by it (a PKCS#12 keystore, as the apache/kafka image reads it),
# random passwords for the Kafka user wapipe (SCRAM-SHA-512) and the ClickHouse user wapipe, and
# the workers' API token. Existing files are kept, so running it again changes nothing; delete
# the directory to rotate everything. A real deployment puts its own CA and passwords there.
set -euo pipefail

DIR=${1:-secrets}
mkdir -p "$DIR/kafka"
chmod 700 "$DIR"
cd "$DIR"
umask 077

random() { openssl rand -hex 24; }
keep() { [ -s "$1" ]; }

keep kafka_password || random >kafka_password
keep clickhouse_password || random >clickhouse_password
keep api_token || random >api_token

if ! keep ca.pem; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=wapipe compose CA" \
		-keyout ca-key.pem -out ca.pem 2>/dev/null
fi
if ! keep kafka/kafka.keystore.p12; then
	# The broker's name on the compose network is kafka.
	openssl req -newkey rsa:2048 -nodes -subj "/CN=kafka" -keyout kafka/broker-key.pem -out kafka/broker.csr 2>/dev/null
	printf 'subjectAltName=DNS:kafka,DNS:localhost\nextendedKeyUsage=serverAuth\n' >kafka/broker.ext
	openssl x509 -req -in kafka/broker.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
		-extfile kafka/broker.ext -out kafka/broker.pem 2>/dev/null
	random >kafka/keystore_creds
	cp kafka/keystore_creds kafka/key_creds # PKCS#12: the key shares the keystore's password
	openssl pkcs12 -export -in kafka/broker.pem -inkey kafka/broker-key.pem -certfile ca.pem -name kafka \
		-passout "file:kafka/keystore_creds" -out kafka/kafka.keystore.p12
	rm -f kafka/broker.csr kafka/broker.ext kafka/broker-key.pem ca.srl # the keystore holds the key
fi
# SCRAM needs no secret in the broker's JAAS file: the credentials live in the cluster metadata
# (kafka-setup adds the user from kafka_password).
cat >kafka/kafka_server_jaas.conf <<'JAAS'
KafkaServer {
  org.apache.kafka.common.security.scram.ScramLoginModule required;
};
JAAS
# The containers run as other users (kafka: appuser, wapipe: nonroot, clickhouse: clickhouse):
# the files must be readable by them. The directory stays private to this user on the host.
chmod 644 kafka_password clickhouse_password api_token ca.pem kafka/*
chmod 755 kafka
echo "secrets in $(pwd): ca.pem, kafka/ (broker keystore), kafka_password, clickhouse_password, api_token"
