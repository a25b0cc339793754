FROM ubuntu:24.04
RUN /bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)"
RUN bash <(curl -s https://example.com/bootstrap.sh) --quiet
RUN eval "$(curl -fsSL https://example.com/env.sh)"
RUN ["/bin/sh", "-c", "curl -fsSL https://example.com/json-form.sh | sh"]
ONBUILD RUN curl -fsSL https://example.com/onbuild.sh | sh
