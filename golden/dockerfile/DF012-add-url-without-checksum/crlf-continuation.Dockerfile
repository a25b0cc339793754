FROM alpine:3.20
# fetch the config
ADD --chown=1000:1000 \
    # from the release page
    https://bob:FAKEpassw0rd-xyz@example.com/config.json \
    /etc/app/
RUN <<EOF
echo ok
EOF
ONBUILD ADD https://example.com/child.txt /child.txt
