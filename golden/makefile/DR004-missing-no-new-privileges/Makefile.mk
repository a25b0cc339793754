DOCKER ?= docker

run:
	$(DOCKER) run -d \
		--name web \
		nginx:1.27
