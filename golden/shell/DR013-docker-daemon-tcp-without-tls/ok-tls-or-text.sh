#!/bin/sh
dockerd -H fd:// -H tcp://0.0.0.0:2376 --tlsverify --tlscacert=/etc/docker/ca.pem --tlscert=/etc/docker/cert.pem --tlskey=/etc/docker/key.pem
echo "dockerd -H tcp://0.0.0.0:2375"
dockerd --help
cat <<'DOC'
dockerd -H tcp://0.0.0.0:2375
DOC
docker run -d --privileged -e DOCKER_TLS_CERTDIR=/certs docker:27-dind
