#!/bin/sh
# docker run --privileged in a comment
echo "usage: docker run --privileged ghcr.io/acme/tool:2"
printf '%s\n' 'docker run --privileged x'
docker run --help
docker run --privileged=false ghcr.io/acme/tool:2
cat <<EOF
docker run --privileged ghcr.io/acme/tool:2
EOF
cat <<-'EOW'
	docker run --privileged ghcr.io/acme/tool:2
	EOW
