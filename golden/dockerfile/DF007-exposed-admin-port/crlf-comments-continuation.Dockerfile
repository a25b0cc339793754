FROM debian:bookworm-slim

RUN <<EOF
set -eux
echo "EXPOSE 22 is only text here"
EOF

EXPOSE 8080 \
    # the ssh daemon
    22 \
    20-23/tcp \
    8443
EXPOSE 9000 \
  # remote docker
  2375 2376
EXPOSE   5900   
CMD ["/app"]
