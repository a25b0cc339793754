IMAGE ?= tailscale/tailscale:v1.76.1
DOCKER_RUN := docker run --rm --privileged

.PHONY: up
up:
	@docker run -d --privileged \
		--name ts \
		$(IMAGE)

test:
	$(DOCKER_RUN) ghcr.io/acme/test:1 go test ./...
