//! Access checks against a 16-ACE DACL with an 8-group token, and SDDL parsing throughput.
//! Run: `cargo bench -p rms-dacl -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rms_dacl::{
    AccessMask, DomainSid, GenericMapping, SecurityDescriptor, Sid, SidContext, Token, access_check,
};

const DOMAIN: DomainSid = DomainSid::new(1_111_111_111, 2_222_222_222, 3_333_333_333);

/// 16 ACEs: 4 explicit denies for other groups, 11 allows for other groups, then the allow
/// that matches, so the check walks the whole list.
fn sixteen_ace_sddl() -> String {
    let mut text = String::from("O:SYG:SYD:P");
    for rid in 2000..2004 {
        text.push_str(&format!("(D;;CC;;;{})", DOMAIN.principal(rid).unwrap()));
    }
    for rid in 3000..3011 {
        text.push_str(&format!("(A;;CCDCLC;;;{})", DOMAIN.principal(rid).unwrap()));
    }
    text.push_str(&format!("(A;;CC;;;{})", DOMAIN.principal(1105).unwrap()));
    text
}

fn eight_group_token() -> Token {
    let mut token = Token::new(DOMAIN.principal(1201).unwrap());
    for rid in [1300, 1301, 1302, 1303, 1304, 1305, 1306] {
        token = token.with_group(DOMAIN.principal(rid).unwrap());
    }
    token.with_group(DOMAIN.principal(1105).unwrap())
}

fn access(c: &mut Criterion) {
    let sd = SecurityDescriptor::from_sddl(&sixteen_ace_sddl(), &SidContext::none()).unwrap();
    assert_eq!(sd.dacl().acl().unwrap().len(), 16);
    let token = eight_group_token();
    let mapping = GenericMapping::DIRECTORY_SERVICE;
    assert!(access_check(&sd, &token, AccessMask::DS_CREATE_CHILD, &mapping).is_ok());
    let mut group = c.benchmark_group("access_check");
    group.throughput(Throughput::Elements(1));
    group.bench_function("16 ACEs, 8 groups, granted by the last ACE", |b| {
        b.iter(|| {
            access_check(
                black_box(&sd),
                black_box(&token),
                AccessMask::DS_CREATE_CHILD,
                &mapping,
            )
        })
    });
    group.bench_function("16 ACEs, 8 groups, denied (no match)", |b| {
        let stranger = Token::new(Sid::ANONYMOUS).with_group(Sid::EVERYONE);
        b.iter(|| {
            access_check(
                black_box(&sd),
                black_box(&stranger),
                AccessMask::DS_CREATE_CHILD,
                &mapping,
            )
        })
    });
    group.bench_function("16 ACEs, 8 groups, MAXIMUM_ALLOWED", |b| {
        b.iter(|| {
            access_check(
                black_box(&sd),
                black_box(&token),
                AccessMask::MAXIMUM_ALLOWED,
                &mapping,
            )
        })
    });
    group.finish();
}

fn sddl(c: &mut Criterion) {
    let text = sixteen_ace_sddl();
    let aliases = "D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BO)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)\
                   (A;;LCRPLORC;;;AU)(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;ED)\
                   (D;;GA;;;BG)(A;CI;GR;;;WD)(A;OICIIO;FA;;;CO)(A;;0x1200a9;;;AU)";
    let mut group = c.benchmark_group("sddl_parse");
    group.throughput(Throughput::Elements(16));
    group.bench_function("16 ACEs with domain SIDs (ACEs/s)", |b| {
        b.iter(|| SecurityDescriptor::from_sddl(black_box(&text), &SidContext::none()).unwrap())
    });
    group.throughput(Throughput::Elements(8));
    group.bench_function("8 ACEs with aliases and a GUID (ACEs/s)", |b| {
        b.iter(|| SecurityDescriptor::from_sddl(black_box(aliases), &SidContext::none()).unwrap())
    });
    group.finish();
    let sd = SecurityDescriptor::from_sddl(&text, &SidContext::none()).unwrap();
    let mut group = c.benchmark_group("sddl_print_and_binary");
    group.throughput(Throughput::Elements(16));
    group.bench_function("print 16 ACEs", |b| b.iter(|| black_box(&sd).to_string()));
    group.bench_function("encode 16 ACEs", |b| {
        b.iter(|| black_box(&sd).to_bytes().unwrap())
    });
    let bytes = sd.to_bytes().unwrap();
    group.bench_function("decode 16 ACEs", |b| {
        b.iter(|| SecurityDescriptor::from_bytes(black_box(&bytes)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, access, sddl);
criterion_main!(benches);
