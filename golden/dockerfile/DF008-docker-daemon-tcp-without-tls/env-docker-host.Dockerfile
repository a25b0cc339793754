FROM docker:27-cli
ENV DOCKER_HOST=tcp://docker:2375
ENV DOCKER_TLS_CERTDIR=""
ARG DOCKER_HOST=tcp://build-host:2375
RUN DOCKER_HOST=tcp://localhost:2375 docker info
CMD ["sh", "-c", "dockerd -H tcp://0.0.0.0:2375 & exec my-ci-agent"]
