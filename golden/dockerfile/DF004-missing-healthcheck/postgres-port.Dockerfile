FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql curl
EXPOSE 5432
CMD ["postgres"]
