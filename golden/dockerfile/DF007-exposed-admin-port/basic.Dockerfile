FROM ubuntu:24.04
RUN apt-get update && apt-get install -y --no-install-recommends openssh-server nginx \
    && rm -rf /var/lib/apt/lists/*
# web and ssh
EXPOSE 80 22/tcp 443
EXPOSE 2375
CMD ["nginx", "-g", "daemon off;"]
