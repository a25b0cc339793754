FROM docker:27-dind
ENV DOCKER_TLS_CERTDIR=/certs
ENV DOCKER_HOST=tcp://docker:2376
RUN DOCKER_HOST=unix:///var/run/docker.sock docker info
RUN DOCKER_HOST="tcp://${DIND_HOST}:${DIND_PORT}" docker info
RUN DOCKER_TLS_VERIFY=1 DOCKER_HOST=tcp://docker:2375 docker info
RUN dockerd -H unix:///var/run/docker.sock & sleep 3
# The API on 2376 with client certificates.
CMD ["dockerd", "-H", "tcp://0.0.0.0:2376", "--tlsverify", "--tlscacert=/certs/ca.pem", "--tlscert=/certs/server-cert.pem", "--tlskey=/certs/server-key.pem"]
