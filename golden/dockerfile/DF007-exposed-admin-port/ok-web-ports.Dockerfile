FROM nginx:1.27
ARG SSH_PORT=22
# Ports from variables are not judged: their value is only known at build time.
EXPOSE 80 443/tcp 8080-8090 $SSH_PORT ${ADMIN_PORT:-2375}
EXPOSE 53/udp
