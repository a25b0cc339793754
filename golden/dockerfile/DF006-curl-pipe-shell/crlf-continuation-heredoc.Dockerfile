FROM alpine:3.20
# install the tool
RUN apk add --no-cache curl bash \
    # fetch and run the installer
    && curl -fsSL \
        https://example.com/get-tool.sh \
      | bash \
    && tool --version
RUN <<EOF
set -eu
curl -fsSL https://example.com/setup.sh | sh
EOF
RUN bash <<-SCRIPT
	wget -qO- https://example.com/other.sh | sh
	SCRIPT
