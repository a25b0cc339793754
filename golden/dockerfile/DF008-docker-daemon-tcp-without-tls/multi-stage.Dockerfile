ARG DIND=docker:27-dind

# A builder stage: its daemon never runs in the shipped image.
FROM ${DIND} AS test
RUN dockerd -H tcp://0.0.0.0:2375 & sleep 3 && docker run --rm hello-world

FROM ${DIND} AS base
ENV DOCKER_HOST=tcp://localhost:2375

FROM base
CMD ["dockerd", "-H", "tcp://0.0.0.0:2375"]
