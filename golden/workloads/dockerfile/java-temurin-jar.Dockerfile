# workload: a Spring Boot jar on eclipse-temurin:21-jre, built with Maven in a first stage
# expect: final.USER exists; final.ENTRYPOINT = ["java", "-jar", "/app/app.jar"]
# expect: stages[build].USER absent
# expect: final.HEALTHCHECK absent
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
