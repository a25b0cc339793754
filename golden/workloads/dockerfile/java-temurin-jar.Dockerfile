# workload: a Spring Boot jar on eclipse-temurin:21-jre, built with Maven in a first stage
# expect: final.USER exists; final.ENTRYPOINT = ["java", "-jar", "/app/app.jar"]
# expect: stages[build].USER absent
# expect (known-defect): final.HEALTHCHECK absent
# known-defect: DF004 applies `curl -fsS http://127.0.0.1:8080/` to a Spring Boot jar nothing is known about: without a mapping for `/` Spring Boot answers 404 (Whitelabel error page), so the container is unhealthy from the start; the health path of an application is not known (ARCHITECTURE §1: a healthcheck command is a value only a human knows)
# evidence: adoptium/containers 25/jdk/ubuntu/resolute/Dockerfile#L111-L114
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B dependency:go-offline
COPY src ./src
RUN mvn -B package -DskipTests

FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=build /src/target/*.jar /app/app.jar
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/app/app.jar"]
