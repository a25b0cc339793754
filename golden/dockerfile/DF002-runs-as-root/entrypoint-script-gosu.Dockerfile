# The entrypoint script (read from the build context) fixes ownership and switches users with
# gosu: the image must start as root, so no USER is added.
FROM debian:bookworm-slim
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["/usr/local/bin/server"]
