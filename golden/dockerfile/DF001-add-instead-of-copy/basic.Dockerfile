FROM alpine:3.20
ADD app/ /app/
add --chown=1000:1000 config.json /etc/app/
ADD ["a b.txt", "/dst/"]
ONBUILD ADD . /src
ADD <<EOF /etc/motd
hello
EOF
