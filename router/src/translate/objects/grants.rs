//! GRANT and REVOKE of privileges on tables, views, materialized views and sequences, as
//! the shard keeps them (shard engine/objects/grants.rs, enforced by
//! engine/privileges): one call of `litescale_privileges` with what the statement asks,
//! as JSON. A GRANT on a schema gives what every role holds already; privileges on
//! columns, databases and functions, and a REVOKE on a schema, are refused (0A000).

use serde_json::json;
use sqlparser::ast::{
    Action, Grant, GrantObjects, Grantee, GranteeName, GranteesType, ObjectName, Privileges,
    Revoke, Statement,
};

use crate::RouterError;
use crate::infer::schema::last_part;
use crate::parse::lexical::string_literal;
use crate::plan::session::SessionContext;

/// The shard's call for a GRANT.
pub(crate) fn grant(grant: &Grant) -> Result<String, RouterError> {
    if grant.granted_by.is_some() || grant.as_grantor.is_some() {
        return Err(RouterError::unsupported("GRANT ... GRANTED BY"));
    }
    call(
        true,
        grant.with_grant_option,
        &grant.privileges,
        grant.objects.as_ref(),
        &grant.grantees,
    )
}

/// The shard's call for a REVOKE.
pub(crate) fn revoke(revoke: &Revoke) -> Result<String, RouterError> {
    if revoke.granted_by.is_some() {
        return Err(RouterError::unsupported("REVOKE ... GRANTED BY"));
    }
    call(
        false,
        revoke.grant_option_for,
        &revoke.privileges,
        revoke.objects.as_ref(),
        &revoke.grantees,
    )
}

fn call(
    grant: bool,
    option: bool,
    privileges: &Privileges,
    objects: Option<&GrantObjects>,
    grantees: &[Grantee],
) -> Result<String, RouterError> {
    let verb = if grant { "GRANT" } else { "REVOKE" };
    let privileges = match privileges {
        Privileges::All { .. } => None,
        Privileges::Actions(actions) => Some(
            actions
                .iter()
                .map(|a| keyword(a, verb))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let names = |names: &[ObjectName]| names.iter().map(last_part).collect::<Vec<_>>();
    let schemas = |names: &[ObjectName]| names.iter().map(folded).collect::<Vec<_>>();
    let (kind, names, schemas) = match objects {
        Some(GrantObjects::Tables(tables)) => ("TABLE", names(tables), Vec::new()),
        Some(GrantObjects::Sequences(sequences)) => ("SEQUENCE", names(sequences), Vec::new()),
        Some(GrantObjects::AllTablesInSchema { schemas: of }) => ("TABLE", Vec::new(), schemas(of)),
        Some(GrantObjects::AllSequencesInSchema { schemas: of }) => {
            ("SEQUENCE", Vec::new(), schemas(of))
        }
        // Every role uses and creates in every schema (litescale keeps no privileges on
        // schemas): a GRANT gives what is held already, a REVOKE could not be kept.
        Some(GrantObjects::Schemas(_)) if grant => return Ok("SELECT 1".to_owned()),
        Some(GrantObjects::Schemas(_)) => {
            return Err(RouterError::unsupported(
                "REVOKE ... ON SCHEMA (every role uses and creates in every schema)",
            ));
        }
        Some(other) => {
            let on = other.to_string();
            let what = on.split_whitespace().next().unwrap_or_default();
            return Err(RouterError::unsupported(&format!(
                "{verb} ... ON {} (privileges are kept for tables, views and sequences)",
                what.to_ascii_uppercase()
            )));
        }
        // `GRANT role TO role`: membership in a role.
        None => {
            return Err(RouterError::unsupported(&format!(
                "{verb} of a role (the config's [[users]] are litescale's roles; they are \
                 members of none)"
            )));
        }
    };
    let grantees = grantees
        .iter()
        .map(grantee)
        .collect::<Result<Vec<_>, _>>()?;
    let change = json!({
        "grant": grant,
        "option": option,
        "privileges": privileges,
        "kind": kind,
        "names": names,
        "schemas": schemas,
        "grantees": grantees,
    });
    Ok(format!(
        "SELECT litescale_privileges({})",
        string_literal(&change.to_string())
    ))
}

/// A privilege's keyword; 0A000 for one on columns.
fn keyword(action: &Action, verb: &str) -> Result<String, RouterError> {
    let columns = match action {
        Action::Select { columns }
        | Action::Insert { columns }
        | Action::Update { columns }
        | Action::References { columns } => columns.as_ref(),
        _ => None,
    };
    if columns.is_some_and(|c| !c.is_empty()) {
        return Err(RouterError::unsupported(&format!(
            "{verb} of privileges on columns"
        )));
    }
    Ok(match action {
        Action::Select { .. } => "SELECT",
        Action::Insert { .. } => "INSERT",
        Action::Update { .. } => "UPDATE",
        Action::Delete => "DELETE",
        Action::Truncate => "TRUNCATE",
        Action::References { .. } => "REFERENCES",
        Action::Trigger => "TRIGGER",
        Action::Usage => "USAGE",
        other => {
            return Err(RouterError {
                sqlstate: "0LP01",
                message: format!(
                    "invalid privilege type {} for table",
                    other.to_string().to_ascii_uppercase()
                ),
            });
        }
    }
    .to_owned())
}

/// 42704 for a grantee of a GRANT or REVOKE that is no role of the session's server.
pub(crate) fn check_grantees(ast: &Statement, ctx: &SessionContext) -> Result<(), RouterError> {
    let grantees = match ast {
        Statement::Grant(g) => &g.grantees,
        Statement::Revoke(r) => &r.grantees,
        _ => return Ok(()),
    };
    let Some(roles) = &ctx.roles else {
        return Ok(());
    };
    for role in grantees.iter().filter_map(|g| grantee(g).ok()) {
        if !role.is_empty() && role != "postgres" && !roles.contains(&role) {
            return Err(RouterError {
                sqlstate: "42704",
                message: format!("role \"{role}\" does not exist"),
            });
        }
    }
    Ok(())
}

/// A grantee's role name; empty for PUBLIC.
fn grantee(grantee: &Grantee) -> Result<String, RouterError> {
    match (&grantee.grantee_type, &grantee.name) {
        (GranteesType::Public, _) => Ok(String::new()),
        (_, Some(GranteeName::ObjectName(name))) => {
            let role = folded(name);
            Ok(if role == "public" {
                String::new()
            } else {
                role
            })
        }
        _ => Err(RouterError::unsupported(&format!("a grantee {grantee}"))),
    }
}

/// A role's or schema's name as Postgres reads it: folded to lower case unless quoted.
fn folded(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(super::schemas::folded)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn grantees_are_the_server_s_roles() {
        let ctx = crate::plan::session::SessionContext {
            roles: Some(vec!["reader".to_owned()].into()),
            ..Default::default()
        };
        let plan = |text| {
            crate::plan_in(text, &ctx)
                .map(|_| ())
                .map_err(|e| e.sqlstate)
        };
        assert_eq!(
            plan("GRANT SELECT ON t TO reader, postgres, PUBLIC"),
            Ok(())
        );
        assert_eq!(plan("REVOKE SELECT ON t FROM Nobody"), Err("42704"));
    }

    #[test]
    fn grants_become_one_call_of_the_shard() {
        assert_eq!(
            sql("GRANT SELECT, INSERT ON t, s.u TO reader, PUBLIC WITH GRANT OPTION"),
            "SELECT litescale_privileges('{\"grant\":true,\"grantees\":[\"reader\",\"\"],\
             \"kind\":\"TABLE\",\"names\":[\"t\",\"s.u\"],\"option\":true,\
             \"privileges\":[\"SELECT\",\"INSERT\"],\"schemas\":[]}')"
        );
        assert_eq!(
            sql("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM \"Writer\""),
            "SELECT litescale_privileges('{\"grant\":false,\"grantees\":[\"Writer\"],\
             \"kind\":\"SEQUENCE\",\"names\":[],\"option\":false,\"privileges\":null,\
             \"schemas\":[\"public\"]}')"
        );
    }
}
