FROM alpine:3.20
RUN apk add --no-cache python3
COPY app.py /app/
WORKDIR /app
EXPOSE 8000
CMD ["python3", "app.py"]
