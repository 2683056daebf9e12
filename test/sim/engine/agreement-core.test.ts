// The controller's core (as generated/ holds it) on the js engine, the verilator engine and Icarus
// under the same random stimulus: every output agrees every cycle. Minutes under load, so apart from
// agreement.test.ts.
import { describeGeneratedAgreement, isControllerCore } from "./generated-agreement.ts";

describeGeneratedAgreement("the controller's core in generated/", isControllerCore, { verilator: true });
