FROM alpine:3.20
ARG NPM_TOKEN
ARG GITHUB_TOKEN=
ENV NPM_TOKEN=$NPM_TOKEN \
    API_KEY="${API_KEY}" \
    POSTGRES_PASSWORD_FILE=/run/secrets/db_password \
    TOKEN_TTL=3600 \
    GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D
LABEL org.opencontainers.image.description="no secrets here"
RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci
