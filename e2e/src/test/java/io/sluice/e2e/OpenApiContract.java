package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.sluice.json.Json;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The OpenAPI 3.1 document as a test oracle: a real response is held against the operation its
 * method and path name — its status must be documented, its content type declared, its JSON body
 * valid against the response's schema (JSON Schema 2020-12, {@code $ref}s resolved in the document)
 * and its required headers present and valid. Request bodies a test sends as valid are held against
 * the request schema too. Every check is recorded, so a test can show that every documented
 * operation was met by a real answer.
 */
final class OpenApiContract {
  private static final String URI = "https://sluice.test/openapi.json";

  private final JsonNode document;
  private final JsonSchemaFactory factory;
  private final Map<String, JsonSchema> schemas = new ConcurrentHashMap<>();
  private final Set<String> checked = new TreeSet<>();

  OpenApiContract(String documentText) {
    this.document = Json.read(documentText);
    this.factory =
        JsonSchemaFactory.getInstance(
            SpecVersion.VersionFlag.V202012,
            b -> b.schemaLoaders(l -> l.schemas(Map.of(URI, documentText))));
  }

  JsonNode document() {
    return document;
  }

  /** Every documented operation, as {@code "METHOD /path"}. */
  Set<String> operations() {
    Set<String> ops = new TreeSet<>();
    document
        .path("paths")
        .fields()
        .forEachRemaining(
            path ->
                path.getValue()
                    .fieldNames()
                    .forEachRemaining(
                        m -> {
                          if (!m.equals("parameters")) {
                            ops.add(m.toUpperCase(Locale.ROOT) + " " + path.getKey());
                          }
                        }));
    return ops;
  }

  /** The operations checked so far, as {@code "METHOD /path"}. */
  synchronized Set<String> operationsChecked() {
    Set<String> ops = new TreeSet<>();
    checked.forEach(c -> ops.add(c.substring(0, c.lastIndexOf(' '))));
    return ops;
  }

  /** The checks so far, as {@code "METHOD /path STATUS"}. */
  synchronized Set<String> checks() {
    return Set.copyOf(checked);
  }

  /** Holds {@code body}, sent to {@code method path}, against the request schema. */
  void checkRequest(String method, String path, String body) {
    String pointer =
        operationPointer(method, path) + "/requestBody/content/application~1json/schema";
    assertValid(pointer, Json.read(body), "request body of " + method + " " + path);
  }

  /** Holds the response to {@code method path} against the document; returns it. */
  HttpResponse<String> check(String method, String path, HttpResponse<String> response) {
    String op = operationPointer(method, path);
    String status = String.valueOf(response.statusCode());
    String where = method + " " + path + " → " + status + " " + response.body();
    JsonNode answer = at(op + "/responses/" + status);
    assertThat(answer.isMissingNode())
        .as("status %s of %s %s is not documented: %s", status, method, path, response.body())
        .isFalse();
    checkHeaders(answer, response, where);
    JsonNode content = answer.path("content");
    if (!content.isMissingNode()) {
      String type = response.headers().firstValue("Content-Type").orElse("").split(";")[0].trim();
      assertThat(content.has(type))
          .as("content type '%s' of %s not among %s", type, where, content.properties())
          .isTrue();
      if (type.equals("application/json")) {
        String pointer = op + "/responses/" + status + "/content/application~1json/schema";
        assertValid(pointer, Json.read(response.body()), where);
      }
    }
    synchronized (this) {
      checked.add(method + " " + path + " " + status);
    }
    return response;
  }

  private void checkHeaders(JsonNode answer, HttpResponse<String> response, String where) {
    for (Iterator<Map.Entry<String, JsonNode>> it = answer.path("headers").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> header = it.next();
      Optional<String> value = response.headers().firstValue(header.getKey());
      if (value.isEmpty()) {
        assertThat(header.getValue().path("required").asBoolean())
            .as("required header %s missing from %s", header.getKey(), where)
            .isFalse();
        continue;
      }
      String pattern = header.getValue().path("schema").path("pattern").asText(null);
      if (pattern != null) {
        assertThat(value.get()).as("header %s of %s", header.getKey(), where).matches(pattern);
      }
    }
  }

  private void assertValid(String pointer, JsonNode value, String where) {
    assertThat(at(pointer).isMissingNode()).as("no schema at %s for %s", pointer, where).isFalse();
    JsonSchema schema =
        schemas.computeIfAbsent(
            pointer, p -> factory.getSchema(Json.object().put("$ref", URI + "#" + p)));
    List<String> errors = new ArrayList<>();
    for (ValidationMessage m : schema.validate(value)) {
      errors.add(m.getMessage());
    }
    assertThat(errors).as("%s does not match its schema", where).isEmpty();
  }

  private String operationPointer(String method, String path) {
    String pointer =
        "/paths/"
            + path.replace("~", "~0").replace("/", "~1")
            + "/"
            + method.toLowerCase(Locale.ROOT);
    assertThat(at(pointer).isMissingNode())
        .as("%s %s is not in the OpenAPI document", method, path)
        .isFalse();
    return pointer;
  }

  private JsonNode at(String pointer) {
    return document.at(pointer);
  }
}
