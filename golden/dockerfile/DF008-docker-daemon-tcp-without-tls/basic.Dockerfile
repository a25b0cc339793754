FROM docker:27-dind
# Serve the API to the CI runners.
CMD ["dockerd", "-H", "unix:///var/run/docker.sock", "-H", "tcp://0.0.0.0:2375"]
