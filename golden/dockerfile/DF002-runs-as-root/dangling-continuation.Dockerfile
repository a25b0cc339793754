# The last line ends in the escape character: BuildKit would join an appended USER to the RUN.
FROM node:20
WORKDIR /app
COPY . .
RUN npm ci \
