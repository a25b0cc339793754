FROM debian:bookworm-slim
ARG APP_UID=1500
RUN groupadd --gid 1500 app \
    && useradd --uid ${APP_UID} --gid app --no-create-home app
COPY --chown=app:app app /app
CMD ["/app/run"]
