// The README's "Testing your resource type" example, run as it is written.
import '../examples/testing/echo-type.conformance.js';
