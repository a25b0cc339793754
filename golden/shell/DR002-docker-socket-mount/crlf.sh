docker run -d \
  --mount type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock \
  redis:7.4
