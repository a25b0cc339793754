FROM docker:27-dind

# Start a daemon for the build, then use it.
RUN <<EOF
set -e
dockerd \
    --host tcp://0.0.0.0:2375 \
    --host unix:///var/run/docker.sock &
sleep 3
EOF
ENTRYPOINT dockerd \
    # listen everywhere
    -H tcp://0.0.0.0:2375
